//! "Did you mean …?" for a mistyped verb: the closest known word by edit distance (a swap of
//! two neighbouring letters counts as one edit), or the one word it is the start of.

/// The candidates `word` most likely stands for — the closest, all of them on a tie — or none
/// when none is close enough to say so.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let word = word.to_ascii_lowercase();
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let near: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (distance(&word, c), *c))
        .filter(|(d, c)| *d <= if c.len() <= 4 { 1 } else { 2 })
        .collect();
    if let Some(best) = near.iter().map(|(d, _)| *d).min() {
        return near
            .into_iter()
            .filter(|(d, _)| *d == best)
            .map(|(_, c)| c)
            .collect();
    }
    // `config --global`: the start of exactly one verb.
    let starts: Vec<&str> = candidates
        .into_iter()
        .filter(|c| word.len() >= 3 && c.starts_with(word.as_str()))
        .collect();
    match starts.len() {
        1 => starts,
        _ => Vec::new(),
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// neighbours, each one edit. Words here are a few letters, so the table is small.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Far apart by length alone: not worth the table (and the table stays small).
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 {
        return usize::MAX;
    }
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERBS: &[&str] = &[
        "get",
        "store",
        "erase",
        "docker",
        "configure",
        "unconfigure",
        "doctor",
    ];

    #[test]
    fn suggests_the_verb_a_typo_stands_for() {
        let cases: &[(&str, &[&str])] = &[
            ("confgure", &["configure"]),
            ("configrue", &["configure"]),
            ("Configure", &["configure"]),
            ("unconfgure", &["unconfigure"]),
            ("doctr", &["doctor"]),
            ("docter", &["docker", "doctor"]),
            ("dokcer", &["docker"]),
            ("gte", &["get"]),
            ("config", &["configure"]),
            ("uncon", &["unconfigure"]),
            ("erasee", &["erase"]),
            ("frobnicate", &[]),
            ("capability", &[]),
            ("do", &[]),
            ("", &[]),
            ("glcbt-64_0123456789abcdef0123456789", &[]),
        ];
        for (word, expected) in cases {
            assert_eq!(closest(word, VERBS.iter().copied()), *expected, "{word:?}");
        }
    }

    #[test]
    fn counts_edits_with_neighbour_swaps_as_one() {
        assert_eq!(distance("configure", "configure"), 0);
        assert_eq!(distance("confgure", "configure"), 1);
        assert_eq!(distance("cofnigure", "configure"), 1);
        assert_eq!(distance("get", "set"), 1);
        assert_eq!(distance("a", "abcd"), usize::MAX);
    }
}
