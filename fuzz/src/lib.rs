//! The oracle the fuzz targets check the helper against: the same file the property tests use
//! (`tests/support/oracle.rs`), so there is one list of what must be answered.

#[path = "../../tests/support/oracle.rs"]
mod oracle;

pub use oracle::*;
