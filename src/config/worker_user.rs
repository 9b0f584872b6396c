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
    /// No `user` directive was seen (one after `http{}` comes too late to be): this is the
    /// user NGINX picks without one, which messages say.
    pub by_default: bool,
}

impl WorkerUser {
    /// The user named `name` with primary group `gid`, as `initgroups` sets them up.
    pub fn named(name: &str, gid: u32) -> Option<WorkerUser> {
        let c_name = CString::new(name).ok()?;
        let uid = uid_of(&c_name)?;
        Some(WorkerUser {
            name: name.to_owned(),
            uid,
            gid,
            groups: group_list(&c_name, gid),
            by_default: false,
        })
    }

    /// The user and group NGINX falls back to without a `user` directive (when run as root).
    pub fn by_names(user: &CStr, group: &CStr) -> Option<WorkerUser> {
        WorkerUser::named(user.to_str().ok()?, gid_of(group)?)
    }

    /// The workers' user when nginx.conf has no `user` directive (before `http{}`): NGINX's
    /// built-in `default_user` and `default_group` when it runs as root, else its own user.
    pub fn without_user_directive(default_user: &CStr, default_group: &CStr) -> Option<WorkerUser> {
        // SAFETY: geteuid has no preconditions.
        let user = if unsafe { libc::geteuid() } == 0 {
            WorkerUser::by_names(default_user, default_group)
        } else {
            Some(WorkerUser::current())
        };
        user.map(|user| WorkerUser {
            by_default: true,
            ..user
        })
    }

    /// The process itself: workers of a master not started as root keep its user.
    pub fn current() -> WorkerUser {
        // SAFETY: geteuid and getegid have no preconditions.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let name = name_of(uid).unwrap_or_else(|| format!("uid {uid}"));
        let groups = CString::new(name.as_str())
            .map(|c| group_list(&c, gid))
            .unwrap_or_default();
        WorkerUser {
            name,
            uid,
            gid,
            groups,
            by_default: false,
        }
    }

    /// `"www-data" (uid 33, gid 33)`, and whether it is NGINX's default.
    pub fn describe(&self) -> String {
        let default = if self.by_default {
            "; NGINX's default, as no `user` directive comes before http{}"
        } else {
            ""
        };
        format!(
            "\"{}\" (uid {}, gid {}{default})",
            self.name, self.uid, self.gid
        )
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

/// Room for one passwd or group entry's strings; entries with more fail to be found, and the
/// check is then skipped rather than guessed.
const ENTRY_BUFFER: usize = 16 * 1024;

// The reentrant lookups below are used because a worker may run them on several threads
// (`current`, when SQLite fails to open), where the plain ones share one static result.

fn uid_of(name: &CStr) -> Option<u32> {
    // SAFETY: an all-zero passwd is a valid value for getpwnam_r to overwrite.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; ENTRY_BUFFER];
    let mut found = std::ptr::null_mut();
    // SAFETY: a NUL-terminated name, an entry and a buffer of the given length, all ours; the
    // result points at `entry` or is null.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some(entry.pw_uid)
}

fn name_of(uid: u32) -> Option<String> {
    // SAFETY: an all-zero passwd is a valid value for getpwuid_r to overwrite.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; ENTRY_BUFFER];
    let mut found = std::ptr::null_mut();
    // SAFETY: an entry and a buffer of the given length, both ours; the result points at
    // `entry` or is null.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success `pw_name` is a NUL-terminated string inside `buffer`, still alive.
    Some(
        unsafe { CStr::from_ptr(entry.pw_name) }
            .to_string_lossy()
            .into_owned(),
    )
}

fn gid_of(name: &CStr) -> Option<u32> {
    // SAFETY: an all-zero group is a valid value for getgrnam_r to overwrite.
    let mut entry: libc::group = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; ENTRY_BUFFER];
    let mut found = std::ptr::null_mut();
    // SAFETY: a NUL-terminated name, an entry and a buffer of the given length, all ours; the
    // result points at `entry` or is null.
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some(entry.gr_gid)
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

    #[test]
    fn users_and_groups_are_looked_up() {
        let root = WorkerUser::named("root", 0).expect("root exists");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(name_of(0).as_deref(), Some("root"));
        assert_eq!(gid_of(c"root"), Some(0));
        assert_eq!(WorkerUser::named("no-such-user-authotron", 0), None);
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        assert_eq!(WorkerUser::current().uid, euid);
    }

    fn user(uid: u32, gid: u32, groups: &[u32]) -> WorkerUser {
        WorkerUser {
            name: "w".into(),
            uid,
            gid,
            groups: groups.to_vec(),
            by_default: false,
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
        assert!(!problem.contains("default"), "{problem}");
        let assumed = WorkerUser {
            by_default: true,
            ..stranger.clone()
        };
        let problem = sqlite_problem(&dir.join("t.db"), &assumed).unwrap();
        assert!(
            problem.contains("NGINX's default, as no `user` directive comes before http{}"),
            "{problem}"
        );
        assert!(problem.contains(&dir.display().to_string()), "{problem}");
        assert_eq!(
            sqlite_problem(&dir.join("t.db"), &user(owner, 4242, &[])),
            None
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
