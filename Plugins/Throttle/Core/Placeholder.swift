// Placeholder: replaced by the Throttle logic.
