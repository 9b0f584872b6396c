//! The user NGINX workers run as, and whether that user can create and write the SQLite token
//! store. `nginx -t` runs as root, so only the worker user's own permissions tell whether the
//! first token request will find a usable database.

use std::ffi::{CStr, CString};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Who the workers are: the name is for messages, the ids for the permission check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// The supplementary groups workers get (NGINX calls `initgroups` for them).
    pub groups: Vec<u32>,
}

impl WorkerUser {
    /// The user named `name` with primary group `gid`, as `initgroups` sets them up.
    pub fn named(name: &str, gid: u32) -> Option<WorkerUser> {
        let c_name = CString::new(name).ok()?;
        // SAFETY: getpwnam reads a NUL-terminated name; the entry it returns is only read here,
        // before any other passwd call on this thread (configuration is read on one thread).
        let uid = unsafe { libc::getpwnam(c_name.as_ptr()).as_ref() }?.pw_uid;
        Some(WorkerUser {
            name: name.to_owned(),
            uid,
            gid,
            groups: group_list(&c_name, gid),
        })
    }

    /// The user and group NGINX falls back to without a `user` directive (when run as root).
    pub fn by_names(user: &CStr, group: &CStr) -> Option<WorkerUser> {
        // SAFETY: as in `named`: a NUL-terminated name, the entry read at once.
        let gid = unsafe { libc::getgrnam(group.as_ptr()).as_ref() }?.gr_gid;
        WorkerUser::named(user.to_str().ok()?, gid)
    }

    /// The workers' user when nginx.conf has no `user` directive (before `http{}`): NGINX's
    /// built-in `default_user` and `default_group` when it runs as root, else its own user.
    pub fn without_user_directive(default_user: &CStr, default_group: &CStr) -> Option<WorkerUser> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            WorkerUser::by_names(default_user, default_group)
        } else {
            Some(WorkerUser::current())
        }
    }

    /// The process itself: workers of a master not started as root keep its user.
    pub fn current() -> WorkerUser {
        // SAFETY: geteuid, getegid and getpwuid have no preconditions; the entry is read at
        // once and its name copied.
        let (uid, gid, name) = unsafe {
            let uid = libc::geteuid();
            let name = libc::getpwuid(uid)
                .as_ref()
                .map(|pw| CStr::from_ptr(pw.pw_name).to_string_lossy().into_owned());
            (uid, libc::getegid(), name)
        };
        let name = name.unwrap_or_else(|| format!("uid {uid}"));
        let groups = CString::new(name.as_str())
            .map(|c| group_list(&c, gid))
            .unwrap_or_default();
        WorkerUser {
            name,
            uid,
            gid,
            groups,
        }
    }

    /// `"nobody" (uid 65534, gid 65534)`.
    pub fn describe(&self) -> String {
        format!("\"{}\" (uid {}, gid {})", self.name, self.uid, self.gid)
    }

    fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// Whether this user has every `rwx` bit of `wanted` (given as owner bits, 0o7) on a file
    /// of `mode`, `owner` and `group`: the owner class applies to the owner, then the group
    /// class, then other, as in the kernel (ACLs aside).
    pub(crate) fn may(&self, wanted: u32, mode: u32, owner: u32, group: u32) -> bool {
        if self.uid == 0 {
            return true;
        }
        let shift = if self.uid == owner {
            6
        } else if self.in_group(group) {
            3
        } else {
            0
        };
        (mode >> shift) & wanted == wanted
    }
}

fn group_list(name: &CStr, gid: u32) -> Vec<u32> {
    let mut groups = vec![0 as libc::gid_t; 256];
    let mut count = groups.len() as libc::c_int;
    // SAFETY: `groups` has room for `count` entries; getgrouplist writes at most that many and
    // sets `count` to how many there are.
    let rc = unsafe { libc::getgrouplist(name.as_ptr(), gid, groups.as_mut_ptr(), &mut count) };
    if rc < 0 {
        return vec![gid];
    }
    groups.truncate(usize::try_from(count).unwrap_or(0));
    groups
}

const READ: u32 = 0o4;
const WRITE: u32 = 0o2;
const SEARCH: u32 = 0o1;

/// Why `user` could not use a SQLite database at `file`, if it could not: every directory on
/// the way must be searchable, the last one writable (SQLite creates the file and its `-wal`
/// and `-shm` companions there), and an existing file readable and writable.
pub fn sqlite_problem(file: &Path, user: &WorkerUser) -> Option<String> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(meta) = fs::metadata(dir) else {
        return Some(format!(
            "the directory \"{}\" does not exist",
            dir.display()
        ));
    };
    if !meta.is_dir() {
        return Some(format!("\"{}\" is not a directory", dir.display()));
    }
    let who = user.describe();
    for ancestor in dir.ancestors() {
        if let Ok(m) = fs::metadata(ancestor) {
            if !user.may(SEARCH, m.mode(), m.uid(), m.gid()) {
                return Some(format!(
                    "the NGINX worker user {who} cannot enter the directory \"{}\"",
                    ancestor.display()
                ));
            }
        }
    }
    if !user.may(WRITE | SEARCH, meta.mode(), meta.uid(), meta.gid()) {
        return Some(format!(
            "the NGINX worker user {who} cannot write in the directory \"{}\" (owner uid {}, mode {:o}): SQLite creates the database and its journal files there; give that user write access, or choose a directory it owns",
            dir.display(),
            meta.uid(),
            meta.mode() & 0o7777
        ));
    }
    if let Ok(m) = fs::metadata(file) {
        if !user.may(READ | WRITE, m.mode(), m.uid(), m.gid()) {
            return Some(format!(
                "the NGINX worker user {who} cannot read and write \"{}\" (owner uid {}, mode {:o})",
                file.display(),
                m.uid(),
                m.mode() & 0o7777
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32, gid: u32, groups: &[u32]) -> WorkerUser {
        WorkerUser {
            name: "w".into(),
            uid,
            gid,
            groups: groups.to_vec(),
        }
    }

    #[test]
    fn the_owner_class_comes_first_then_group_then_other() {
        let w = user(1000, 1000, &[50]);
        // Owner without write, even though other may write: refused, as by the kernel.
        assert!(!w.may(WRITE | SEARCH, 0o577, 1000, 0));
        assert!(w.may(WRITE | SEARCH, 0o700, 1000, 0));
        assert!(
            w.may(WRITE | SEARCH, 0o070, 0, 50),
            "a supplementary group counts"
        );
        assert!(!w.may(WRITE | SEARCH, 0o755, 0, 0), "root's 0755 directory");
        assert!(
            w.may(WRITE | SEARCH, 0o1777, 0, 0),
            "a sticky world-writable directory"
        );
        assert!(user(0, 0, &[]).may(WRITE | SEARCH, 0o000, 5, 5), "root may");
    }

    #[test]
    fn a_missing_or_unwritable_directory_is_a_problem_and_names_the_user() {
        let w = user(65534, 65534, &[]);
        let missing = sqlite_problem(Path::new("/nonexistent-authotron/t.db"), &w).unwrap();
        assert!(
            missing.contains("\"/nonexistent-authotron\" does not exist"),
            "{missing}"
        );

        let dir = std::env::temp_dir().join(format!("authotron-wu-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let owner = fs::metadata(&dir).unwrap().uid();
        let stranger = user(owner.wrapping_add(12345), 4242, &[]);
        let problem = sqlite_problem(&dir.join("t.db"), &stranger).unwrap();
        assert!(problem.contains("\"w\" (uid"), "{problem}");
        assert!(problem.contains(&dir.display().to_string()), "{problem}");
        assert_eq!(
            sqlite_problem(&dir.join("t.db"), &user(owner, 4242, &[])),
            None
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
