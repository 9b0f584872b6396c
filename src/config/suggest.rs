//! "Did you mean": the valid key closest to a misspelt one, by edit distance.

/// The candidate closest to `typed`, if it is close enough to be what was meant: at most one
/// edit per three characters of the candidate, and never more than two, so that a short key is
/// not "corrected" into an unrelated one. A swap of two neighbouring letters is one edit.
pub(crate) fn closest<'c>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .filter(|candidate| *candidate != typed)
        .map(|candidate| (distance(typed, candidate), candidate))
        .filter(|(d, candidate)| *d <= 2 && *d * 3 <= candidate.chars().count().max(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

/// Edits (insert, delete, replace, or swap of neighbours) that turn `a` into `b`, ignoring case.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // rows[i][j]: the distance between the first i chars of a and the first j of b.
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let replace = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + replace);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::{closest, distance};

    #[test]
    fn distances() {
        assert_eq!(distance("pasword", "password"), 1);
        assert_eq!(distance("rolse", "roles"), 1);
        assert_eq!(distance("Realm", "realm"), 0);
        assert_eq!(distance("", "uri"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_the_nearest_valid_key() {
        let keys = ["username", "password", "password_hash", "roles"];
        assert_eq!(closest("pasword", keys), Some("password"));
        assert_eq!(closest("passwordhash", keys), Some("password_hash"));
        assert_eq!(closest("rolse", keys), Some("roles"));
        assert_eq!(closest("usernme", keys), Some("username"));
    }

    #[test]
    fn suggests_nothing_far_away() {
        let keys = ["username", "password", "roles"];
        assert_eq!(closest("email", keys), None);
        assert_eq!(closest("groups", keys), None);
        assert_eq!(closest("x", ["uri"]), None);
        assert_eq!(
            closest("password", keys),
            None,
            "a valid key is not misspelt"
        );
    }
}
