//! A table of named 64-bit numbers in memory that several processes share (an NGINX shared
//! memory zone), so that every worker adds to, and reads, the same totals.
//!
//! Layout of the region: a header, an open-addressing array of slots, then an arena holding the
//! key bytes. A slot is published by storing its state with Release after its key is written;
//! lookups load it with Acquire, so a reader never sees a half-written key.
//!
//! Only one process registers keys, and never concurrently with another registration: the
//! NGINX master while it loads a configuration (or the single process). Workers, including the
//! old ones still running during a reload, only add to values they resolved earlier; they never
//! read keys. So registration needs no lock. A reused region (a reload that kept the zone)
//! still holds every key and total from before: registering a key it already has returns the
//! existing number.

use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::fnv::hash;

/// Identifies the format, so a region written by another layout is never misread.
const MAGIC: u64 = u64::from_le_bytes(*b"AOTMET01");
/// Slots are kept at most three quarters full so that probe sequences stay short.
const MAX_LOAD_NUM: usize = 3;
const MAX_LOAD_DEN: usize = 4;
/// Arena bytes planned per slot: a typical key (family, labels, cell) is about 100 bytes.
const KEY_BYTES_PER_SLOT: usize = 112;

#[repr(C)]
struct Header {
    magic: AtomicU64,
    /// The region's length in bytes, as formatted.
    len: u64,
    slots: u32,
    arena_len: u32,
    arena_used: AtomicU32,
    used: AtomicU32,
}

#[repr(C)]
struct Slot {
    /// 0: free; 1: published.
    state: AtomicU32,
    hash: u32,
    key_at: u32,
    key_len: u32,
    value: AtomicU64,
}

const FREE: u32 = 0;
const PUBLISHED: u32 = 1;

/// A view of a formatted region. `'a` is how long the region stays mapped.
pub struct Table<'a> {
    header: *const Header,
    slots: *const Slot,
    arena: *mut u8,
    _region: PhantomData<&'a ()>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum OpenError {
    /// Too small for even a handful of series.
    TooSmall,
    /// Not 8-byte aligned.
    Misaligned,
    /// `reopen` found no table.
    NotFormatted,
}

impl<'a> Table<'a> {
    /// The smallest region worth formatting.
    pub const MIN_LEN: usize = 4096;

    /// Uses the table in `region` if it holds one, else formats it.
    ///
    /// # Safety
    /// `region..region+len` must stay mapped and writable for `'a`, be zeroed or hold a table
    /// formatted by this code, and no other process may register keys meanwhile (see the
    /// module documentation).
    pub unsafe fn open(region: *mut u8, len: usize) -> Result<Table<'a>, OpenError> {
        if (region as usize) % align_of::<Header>() != 0 {
            return Err(OpenError::Misaligned);
        }
        if len < Self::MIN_LEN {
            return Err(OpenError::TooSmall);
        }
        let header = region.cast::<Header>();
        // SAFETY: the caller's region is mapped, aligned (checked) and large enough (checked)
        // for a header, which is zeroed or written by `format`.
        let formatted = unsafe {
            (*header).magic.load(Ordering::Acquire) == MAGIC && (*header).len as usize == len
        };
        if !formatted {
            // SAFETY: the caller's region is ours to write for `len` bytes.
            unsafe { Self::format(region, len) };
        }
        let slots_at = size_of::<Header>().next_multiple_of(align_of::<Slot>());
        // SAFETY: the header is formatted now.
        let slots = unsafe { (*header).slots } as usize;
        // SAFETY: `format` sized the slots and the arena to fit within `len`.
        let (slots, arena) = unsafe {
            (
                region.add(slots_at).cast::<Slot>(),
                region.add(slots_at + slots * size_of::<Slot>()),
            )
        };
        Ok(Table {
            header,
            slots,
            arena,
            _region: PhantomData,
        })
    }

    /// Uses the table an earlier [`Table::open`] formatted in `region`, whatever its length.
    ///
    /// # Safety
    /// As for [`Table::open`]; `region` must be 8-byte aligned and at least `MIN_LEN` long.
    pub unsafe fn reopen(region: *mut u8) -> Result<Table<'a>, OpenError> {
        let header = region.cast::<Header>();
        if (region as usize) % align_of::<Header>() != 0 {
            return Err(OpenError::Misaligned);
        }
        // SAFETY: the caller's region is mapped, aligned (checked) and holds at least a header.
        let (magic, len) = unsafe { ((*header).magic.load(Ordering::Acquire), (*header).len) };
        if magic != MAGIC {
            return Err(OpenError::NotFormatted);
        }
        // SAFETY: as the caller promised, for the length the table was formatted with.
        unsafe { Self::open(region, len as usize) }
    }

    /// # Safety
    /// `region..region+len` is mapped, writable, 8-byte aligned, at least `MIN_LEN` long, and
    /// nobody reads it meanwhile.
    unsafe fn format(region: *mut u8, len: usize) {
        // SAFETY: as the caller promised.
        unsafe { std::ptr::write_bytes(region, 0, len) };
        let slots_at = size_of::<Header>().next_multiple_of(align_of::<Slot>());
        let room = len - slots_at;
        let slots = room / (size_of::<Slot>() + KEY_BYTES_PER_SLOT);
        let arena_len = room - slots * size_of::<Slot>();
        // SAFETY: the region starts with room for an aligned header, now zeroed.
        let header = unsafe { &mut *region.cast::<Header>() };
        header.len = len as u64;
        header.slots = slots as u32;
        header.arena_len = u32::try_from(arena_len).unwrap_or(u32::MAX);
        header.magic.store(MAGIC, Ordering::Release);
    }

    fn header(&self) -> &Header {
        // SAFETY: `open` checked the region and it stays mapped for 'a.
        unsafe { &*self.header }
    }

    fn slot(&self, index: usize) -> &'a Slot {
        // SAFETY: callers pass index < slots; the region stays mapped for 'a.
        unsafe { &*self.slots.add(index) }
    }

    fn key_of(&self, slot: &Slot) -> &[u8] {
        // SAFETY: a published slot's key lies inside the arena and never changes again.
        unsafe {
            std::slice::from_raw_parts(self.arena.add(slot.key_at as usize), slot.key_len as usize)
        }
    }

    /// How many keys the table holds.
    pub fn len(&self) -> usize {
        self.header().used.load(Ordering::Acquire) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number stored under `key`, if it was registered.
    pub fn find(&self, key: &[u8]) -> Option<&'a AtomicU64> {
        match self.probe(key) {
            Probe::Found(slot) => Some(&slot.value),
            Probe::Free(_) | Probe::Full => None,
        }
    }

    /// The number stored under `key`, registered (as zero) if it is new. `None` when the table
    /// is full. See the module documentation for who may call this.
    pub fn register(&self, key: &[u8]) -> Option<&'a AtomicU64> {
        let index = match self.probe(key) {
            Probe::Found(slot) => return Some(&slot.value),
            Probe::Free(index) => index,
            Probe::Full => return None,
        };
        let header = self.header();
        let slots = header.slots as usize;
        let used = header.used.load(Ordering::Relaxed) as usize;
        if (used + 1) * MAX_LOAD_DEN > slots * MAX_LOAD_NUM {
            return None;
        }
        let at = header.arena_used.load(Ordering::Relaxed) as usize;
        if key.len() > header.arena_len as usize - at {
            return None;
        }
        // SAFETY: [at, at+len) is unused arena space: only registration writes there, and it
        // runs in one process at a time; the slot is free, so no reader looks at its fields.
        unsafe {
            std::ptr::copy_nonoverlapping(key.as_ptr(), self.arena.add(at), key.len());
            let slot = self.slots.add(index).cast_mut();
            (*slot).hash = hash(key) as u32;
            (*slot).key_at = at as u32;
            (*slot).key_len = key.len() as u32;
        }
        header
            .arena_used
            .store((at + key.len()) as u32, Ordering::Relaxed);
        header.used.store((used + 1) as u32, Ordering::Release);
        let slot = self.slot(index);
        slot.state.store(PUBLISHED, Ordering::Release);
        Some(&slot.value)
    }

    fn probe(&self, key: &[u8]) -> Probe<'a> {
        let slots = self.header().slots as usize;
        if slots == 0 {
            return Probe::Full;
        }
        let h = hash(key);
        let start = (h % slots as u64) as usize;
        for step in 0..slots {
            let index = (start + step) % slots;
            let slot = self.slot(index);
            if slot.state.load(Ordering::Acquire) == FREE {
                return Probe::Free(index);
            }
            if slot.hash == h as u32 && self.key_of(slot) == key {
                return Probe::Found(slot);
            }
        }
        Probe::Full
    }
}

enum Probe<'a> {
    Found(&'a Slot),
    Free(usize),
    Full,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zeroed, 8-byte aligned stand-in for a shared memory zone.
    pub(crate) fn region(len: usize) -> Vec<u64> {
        vec![0; len / 8]
    }

    fn open(memory: &mut [u64]) -> Table<'_> {
        unsafe { Table::open(memory.as_mut_ptr().cast(), memory.len() * 8).unwrap() }
    }

    #[test]
    fn registered_keys_are_found_again_and_distinct() {
        let mut memory = region(64 * 1024);
        let table = open(&mut memory);
        let a = table.register(b"a{x=\"1\"}").unwrap();
        let b = table.register(b"b").unwrap();
        a.fetch_add(5, Ordering::Relaxed);
        b.fetch_add(7, Ordering::Relaxed);
        assert_eq!(
            table.find(b"a{x=\"1\"}").unwrap().load(Ordering::Relaxed),
            5
        );
        assert_eq!(table.register(b"b").unwrap().load(Ordering::Relaxed), 7);
        assert!(table.find(b"c").is_none());
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn reopening_keeps_keys_and_totals() {
        let mut memory = region(64 * 1024);
        {
            let table = open(&mut memory);
            table
                .register(b"kept")
                .unwrap()
                .fetch_add(42, Ordering::Relaxed);
        }
        let table = open(&mut memory);
        assert_eq!(table.len(), 1);
        assert_eq!(table.register(b"kept").unwrap().load(Ordering::Relaxed), 42);
        assert_eq!(table.register(b"new").unwrap().load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_full_table_refuses_without_harm() {
        let mut memory = region(Table::MIN_LEN);
        let table = open(&mut memory);
        let mut stored = Vec::new();
        for n in 0.. {
            let key = format!("series-{n}");
            match table.register(key.as_bytes()) {
                Some(value) => {
                    value.fetch_add(n, Ordering::Relaxed);
                    stored.push(key);
                }
                None => break,
            }
        }
        assert!(stored.len() > 10, "{}", stored.len());
        for (n, key) in stored.iter().enumerate() {
            assert_eq!(
                table.find(key.as_bytes()).unwrap().load(Ordering::Relaxed),
                n as u64
            );
        }
        // Keys already present are still found when the table is full.
        assert!(table.register(stored[0].as_bytes()).is_some());
    }

    #[test]
    fn long_keys_exhaust_the_arena_cleanly() {
        let mut memory = region(Table::MIN_LEN);
        let table = open(&mut memory);
        let long = vec![b'k'; 3000];
        assert!(table.register(&long).is_some());
        let mut other = long.clone();
        other[0] = b'x';
        assert!(table.register(&other).is_none());
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn small_or_misaligned_regions_are_refused() {
        let mut memory = region(Table::MIN_LEN);
        let too_small = unsafe { Table::open(memory.as_mut_ptr().cast(), 1024) };
        assert_eq!(too_small.err(), Some(OpenError::TooSmall));
        let misaligned =
            unsafe { Table::open(memory.as_mut_ptr().cast::<u8>().add(1), Table::MIN_LEN - 8) };
        assert_eq!(misaligned.err(), Some(OpenError::Misaligned));
    }

    #[test]
    fn reopening_reads_the_recorded_length() {
        let mut memory = region(64 * 1024);
        let fresh = unsafe { Table::reopen(memory.as_mut_ptr().cast()) };
        assert_eq!(fresh.err(), Some(OpenError::NotFormatted));
        {
            let table = unsafe { Table::open(memory.as_mut_ptr().cast(), 16 * 1024).unwrap() };
            table
                .register(b"k")
                .unwrap()
                .fetch_add(3, Ordering::Relaxed);
        }
        let table = unsafe { Table::reopen(memory.as_mut_ptr().cast()).unwrap() };
        assert_eq!(table.find(b"k").unwrap().load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_region_of_another_length_is_formatted_afresh() {
        let mut memory = region(64 * 1024);
        {
            let table = open(&mut memory);
            table
                .register(b"old")
                .unwrap()
                .fetch_add(1, Ordering::Relaxed);
        }
        let table = unsafe { Table::open(memory.as_mut_ptr().cast(), 32 * 1024).unwrap() };
        assert!(table.is_empty());
    }
}
