// Placeholder: replaced by the Auth plugin glue.
