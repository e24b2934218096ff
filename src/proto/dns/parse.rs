//! Pure dns wire parsing (placeholder, filled in on the parsers branch).
