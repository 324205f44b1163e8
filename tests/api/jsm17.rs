//! SPEC §17: the bridge against a simulator that follows Atlassian's published contract, each
//! test with the switch on that produces the case.

mod lookup;
mod quota;
mod shape_check;
mod shapes;
mod shapes_welcome;
mod steps;
mod welcome;
