//! Printing to standard output without panicking when nobody reads it any more.
//!
//! `println!` panics when a write fails, which is what happens as soon as a reader such as
//! `head` closes the pipe (`resim run s.toml | head -3`). The CLI prints results that are
//! also written to files, and a report nobody reads is no reason to stop writing those, so
//! these macros drop write errors instead.

/// `println!` to standard output, ignoring write errors (a closed pipe).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` to standard output, ignoring write errors (a closed pipe).
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` to standard error, ignoring write errors (a closed pipe, as in
/// `resim validate s.toml 2>&1 | head -1`).
macro_rules! say_err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
