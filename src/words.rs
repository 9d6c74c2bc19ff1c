//! Words of the messages and reports: a count with its noun in the singular or the plural,
//! so that every message says "1 cell" and "2 cells" the same way.

/// "1 step", "2 steps", "0 steps": `what` is a noun whose plural takes an "s".
pub fn counted(n: usize, what: &str) -> String {
    format!("{n} {what}{}", plural_s(n))
}

/// The "s" of a plural after the count `n`: "" for 1, "s" otherwise.
pub fn plural_s(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `word` as a POSIX shell reads it back: quoted when it holds anything but plain characters.
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1, "cell"), "1 cell");
        assert_eq!(counted(0, "cell"), "0 cells");
        assert_eq!(counted(2, "seed"), "2 seeds");
        assert_eq!(plural_s(1), "");
        assert_eq!(plural_s(3), "s");
    }
}
