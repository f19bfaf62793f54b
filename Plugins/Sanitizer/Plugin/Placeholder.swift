// Placeholder: replaced by the Sanitizer plugin glue.
