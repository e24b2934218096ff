//! Pure http wire parsing (placeholder, filled in on the parsers branch).
