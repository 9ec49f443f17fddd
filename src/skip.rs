//! What this machine cannot measure is skipped with its reason, printed where the number
//! would have been: never faked, never silently dropped.

use std::fmt;

/// A variant this machine cannot run, with the reason printed instead of a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip(pub String);

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Skip {}
