use std::path::Path;

use super::TARGETS;

/// Every seed of every target goes through its harness: the invariants hold on the real
/// examples the corpus starts from, and a harness that rots fails here first.
#[test]
fn every_seed_passes_its_harness() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    for (name, harness) in TARGETS {
        let dir = seeds.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            let data = std::fs::read(&path).expect("a readable seed");
            harness(&data);
            count += 1;
        }
        assert!(count > 0, "target {name} has no seed");
    }
}

/// Every fuzz target in `fuzz/` calls one harness of [`TARGETS`], and every harness has one.
#[test]
fn every_harness_has_a_fuzz_target() {
    let targets = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    for (name, _) in TARGETS {
        let file = targets.join(format!("{name}.rs"));
        let source =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            source.contains(&format!("fuzzing::{name}(")),
            "{name}.rs calls another"
        );
    }
    let files = std::fs::read_dir(&targets)
        .expect("fuzz/fuzz_targets")
        .count();
    assert_eq!(
        files,
        TARGETS.len(),
        "a fuzz target without a harness entry"
    );
}
