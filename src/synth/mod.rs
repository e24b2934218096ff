//! Deterministic capture synthesis (placeholder, filled in on the synth branch).
