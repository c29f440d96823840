//! Placeholder while this format is written.
