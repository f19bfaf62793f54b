// Placeholder: replaced by the Throttle plugin glue.
