//! The bounds every query runs under, read by both the index reader and the queries.

/// Limits every query runs under, so a damaged or hostile index costs bounded work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most trie nodes one query may read; beyond it the query fails with [`crate::Error::TooMuchWork`].
    /// Default 100 000 (a healthy autocomplete reads a few hundred).
    pub max_visits: usize,
    /// Most completions one autocomplete may return, whatever it asks for. Default 1000.
    pub max_completions: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_visits: 100_000,
            max_completions: 1000,
        }
    }
}
