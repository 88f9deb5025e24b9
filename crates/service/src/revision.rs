//! The policy revision: a content hash of the policy files, so that every
//! decision can name the exact texts it was made under.

use std::path::{Path, PathBuf};

use payer_rules::internal::{files_below, is_policy_file};
use xxhash_rust::xxh3::Xxh3;

/// XXH3-128 over each policy file's path (as named, sorted) and bytes, as 32
/// hex digits. A file that cannot be read hashes as its path alone: the load
/// that follows reports it.
pub fn of(paths: &[PathBuf]) -> String {
    let mut files: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(files_below(path, &is_policy_file).unwrap_or_default());
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    let mut hasher = Xxh3::new();
    for file in &files {
        hash_file(&mut hasher, file);
    }
    format!("{:032x}", hasher.digest128())
}

fn hash_file(hasher: &mut Xxh3, file: &Path) {
    let name = file.to_string_lossy();
    // Lengths first, so that no two lists of files hash alike by shifting
    // bytes between a name and a text.
    hasher.update(&(name.len() as u64).to_le_bytes());
    hasher.update(name.as_bytes());
    let bytes = std::fs::read(file).unwrap_or_default();
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(&bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revision_follows_the_content() {
        let dir = std::env::temp_dir().join(format!("payer-rules-revision-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("a.policy"), "one").unwrap();
        std::fs::write(dir.join("lib/b.policy"), "two").unwrap();
        std::fs::write(dir.join("notes.txt"), "not a policy").unwrap();
        let paths = [dir.clone()];
        let first = of(&paths);
        assert_eq!(first.len(), 32);
        assert_eq!(of(&paths), first);
        std::fs::write(dir.join("notes.txt"), "changed").unwrap();
        assert_eq!(of(&paths), first, "only policy files count");
        std::fs::write(dir.join("lib/b.policy"), "three").unwrap();
        assert_ne!(of(&paths), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
