//! The JSM simulator.
