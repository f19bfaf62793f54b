// Placeholder: replaced by the Auth logic.
