// Placeholder: replaced by the Sanitizer logic.
