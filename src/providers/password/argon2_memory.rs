//! Argon2id verification with working memory mapped for each hash and unmapped right after.
//!
//! The library would allocate `m` KiB per hash from the heap. Freed, that memory often stays
//! with the allocator (glibc keeps it per thread once a free raised its mmap threshold), so a
//! worker's RSS grew by one buffer for every blocking thread that ever hashed. Mapped
//! directly, it goes back to the system as soon as the hash ends: a worker holds at most
//! `CONCURRENT_HASH_CHECKS` × `m` KiB, and only while hashing.

use std::mem;
use std::ptr::{self, NonNull};

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq;

/// Whether `password` hashes to `expected`, an Argon2 PHC string already parsed. Anything
/// that keeps the hash from being computed counts as a mismatch.
pub fn verify(expected: &PasswordHash<'_>, password: &[u8]) -> bool {
    compute(expected, password).unwrap_or(false)
}

fn compute(expected: &PasswordHash<'_>, password: &[u8]) -> Option<bool> {
    let want = expected.hash?;
    let algorithm = Algorithm::try_from(expected.algorithm).ok()?;
    let version = match expected.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(expected).ok()?;
    let mut salt = [0u8; 64];
    let salt = expected.salt?.decode_b64(&mut salt).ok()?;
    let mut memory = MappedBlocks::new(params.block_count())?;
    let mut out = [0u8; 64];
    let out = out.get_mut(..want.len())?;
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, memory.as_mut())
        .ok()?;
    Some(out.ct_eq(want.as_bytes()).into())
}

/// Zeroed blocks in an anonymous private mapping, unmapped when dropped.
struct MappedBlocks {
    blocks: NonNull<Block>,
    count: usize,
}

impl MappedBlocks {
    fn new(count: usize) -> Option<Self> {
        let len = count.checked_mul(mem::size_of::<Block>())?;
        if len == 0 {
            return None;
        }
        // SAFETY: a fresh anonymous mapping; the result is checked for failure.
        let mapped = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if mapped == libc::MAP_FAILED {
            return None;
        }
        Some(MappedBlocks {
            blocks: NonNull::new(mapped.cast())?,
            count,
        })
    }

    fn as_mut(&mut self) -> &mut [Block] {
        // SAFETY: the mapping holds `count` blocks, page-aligned (beyond `Block`'s alignment),
        // zero-filled by the kernel (an all-zero `Block` is valid: it is plain integers), and
        // only this value, borrowed mutably, reaches it.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.as_ptr(), self.count) }
    }
}

impl Drop for MappedBlocks {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping `new` made, which nothing borrows any more.
        unsafe {
            libc::munmap(
                self.blocks.as_ptr().cast(),
                self.count * mem::size_of::<Block>(),
            )
        };
    }
}
