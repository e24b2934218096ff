//! Pure tls wire parsing (placeholder, filled in on the parsers branch).
