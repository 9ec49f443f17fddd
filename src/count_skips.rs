//! What the count lane's instructions lane cannot count in this suite, and why: each a benchmark ID pattern and one line.

/// Benchmarks that valgrind cannot run, or not in a time worth spending, by a part of their ID.
const UNDER_VALGRIND: &[(&str, &str)] = &[
    (
        "monoio",
        "monoio runs on io_uring, which valgrind does not emulate",
    ),
    (
        "/1GiB",
        "a 1 GiB ballast: filling and forking it under valgrind takes minutes per iteration",
    ),
];

/// Why the benchmark `id` is not counted under valgrind, if it is not.
pub fn under_valgrind(id: &str) -> Option<&'static str> {
    UNDER_VALGRIND
        .iter()
        .find(|(part, _)| id.contains(part))
        .map(|(_, why)| *why)
}
