//! Walking and editing NGINX's header lists (`ngx_list_t` of `ngx_table_elt_t`).
//!
//! NGINX has no call that removes a header line, and its elements must never move: the HTTP
//! core points `headers_in.host`, `headers_in.authorization` and the `next` chains of repeated
//! headers at them, the FastCGI module compares their addresses, and a subrequest's list shares
//! its element arrays with its parent's. So `retain` re-links the list as runs of the elements
//! it keeps and leaves every element where it was.

use std::mem;
use std::ptr::{self, NonNull};

use ngx::ffi::{
    ngx_hash_strlow, ngx_list_part_t, ngx_list_push, ngx_list_t, ngx_palloc, ngx_pnalloc,
    ngx_pool_t, ngx_str_t, ngx_table_elt_t,
};

use super::pool::{pool_str, NoMemory};

/// The elements of a header list.
pub fn elements(list: &ngx_list_t) -> impl Iterator<Item = &ngx_table_elt_t> {
    parts(list).flat_map(|part| {
        // SAFETY: a header list part holds `nelts` initialised `ngx_table_elt_t` elements.
        unsafe { std::slice::from_raw_parts(part.elts.cast::<ngx_table_elt_t>(), part.nelts) }
    })
}

pub fn elements_mut(list: &mut ngx_list_t) -> impl Iterator<Item = &mut ngx_table_elt_t> {
    parts(list).flat_map(|part| {
        // SAFETY: as in `elements`; the `&mut` on the list makes these borrows exclusive.
        unsafe { std::slice::from_raw_parts_mut(part.elts.cast::<ngx_table_elt_t>(), part.nelts) }
    })
}

fn parts(list: &ngx_list_t) -> impl Iterator<Item = &ngx_list_part_t> {
    std::iter::successors(Some(&list.part), |part| {
        // SAFETY: `next` is null or the next part of the same list, allocated in its pool.
        unsafe { part.next.as_ref() }
    })
}

/// Appends a fully initialised element. Everything is allocated before the element is pushed:
/// list memory is not zeroed, and the proxy module looks headers up by `hash` and
/// `lowcase_key`, so a half-written element must never be left in the list.
pub fn push(
    list: &mut ngx_list_t,
    pool: *mut ngx_pool_t,
    name: &str,
    value: ngx_str_t,
) -> Result<*mut ngx_table_elt_t, NoMemory> {
    let key = pool_str(pool, name.as_bytes())?;
    // SAFETY: `pool` is the live request pool; the result is checked for null.
    let lowcase = unsafe { ngx_pnalloc(pool, name.len()) }.cast::<u8>();
    if lowcase.is_null() {
        return Err(NoMemory);
    }
    // SAFETY: `lowcase` has room for `key.len` bytes, `key` holds `key.len` bytes.
    let hash = unsafe { ngx_hash_strlow(lowcase, key.data, key.len) };
    // SAFETY: `list` is a header list initialised by NGINX with `ngx_table_elt_t` elements.
    let h = unsafe { ngx_list_push(list) }.cast::<ngx_table_elt_t>();
    // SAFETY: a non-null result points at room for one element; every field NGINX reads is
    // written here before anyone can see it.
    let element = unsafe { h.as_mut() }.ok_or(NoMemory)?;
    element.hash = hash;
    element.key = key;
    element.value = value;
    element.lowcase_key = lowcase;
    #[cfg(ngx_table_elt_next)]
    {
        element.next = ptr::null_mut();
    }
    Ok(h)
}

/// A stretch of elements the list keeps, where they already are.
struct Run {
    elts: NonNull<ngx_table_elt_t>,
    len: usize,
}

/// Leaves in `list` only the elements `keep` accepts, in order, none of them moved. The list
/// is unchanged when memory runs out.
pub fn retain(
    list: &mut ngx_list_t,
    pool: *mut ngx_pool_t,
    mut keep: impl FnMut(&ngx_table_elt_t) -> bool,
) -> Result<(), NoMemory> {
    let runs = kept_runs(list, &mut keep);
    let Some((first, rest)) = runs.split_first() else {
        return empty(list, pool);
    };
    let records = alloc_parts(pool, rest.len())?;
    list.part = part(first);
    let mut last: *mut ngx_list_part_t = &mut list.part;
    for (i, run) in rest.iter().enumerate() {
        // SAFETY: `records` has room for `rest.len()` parts; `last` is the list's own first
        // part or a record written in an earlier round.
        unsafe {
            let record = records.add(i);
            record.write(part(run));
            (*last).next = record;
            last = record;
        }
    }
    list.last = last;
    // `ngx_list_push` fills the last part up to `nalloc` elements, but this one may begin in
    // the middle of an array, or in the array of a parent request. Declaring it full makes the
    // next push start a part of its own.
    // SAFETY: `last` is a part of this list, written above.
    list.nalloc = unsafe { (*last).nelts };
    Ok(())
}

fn kept_runs(list: &ngx_list_t, keep: &mut impl FnMut(&ngx_table_elt_t) -> bool) -> Vec<Run> {
    let mut runs = Vec::new();
    for p in parts(list) {
        let Some(elts) = NonNull::new(p.elts.cast::<ngx_table_elt_t>()) else {
            continue;
        };
        let mut start = None;
        for i in 0..=p.nelts {
            // SAFETY: `i < nelts` indexes an initialised element of this part.
            let kept = i < p.nelts && keep(unsafe { elts.add(i).as_ref() });
            match (kept, start) {
                (true, None) => start = Some(i),
                (false, Some(from)) => {
                    runs.push(Run {
                        // SAFETY: `from < nelts`, inside this part's array.
                        elts: unsafe { elts.add(from) },
                        len: i - from,
                    });
                    start = None;
                }
                _ => {}
            }
        }
    }
    runs
}

/// No element is kept: a fresh array, since the old one may be shared with a parent request.
fn empty(list: &mut ngx_list_t, pool: *mut ngx_pool_t) -> Result<(), NoMemory> {
    // SAFETY: `pool` is the live request pool; the result is checked for null.
    let elts = unsafe { ngx_palloc(pool, list.nalloc * list.size) };
    if elts.is_null() {
        return Err(NoMemory);
    }
    list.part = ngx_list_part_t {
        elts,
        nelts: 0,
        next: ptr::null_mut(),
    };
    list.last = &mut list.part;
    Ok(())
}

fn alloc_parts(pool: *mut ngx_pool_t, count: usize) -> Result<*mut ngx_list_part_t, NoMemory> {
    if count == 0 {
        return Ok(ptr::null_mut());
    }
    // SAFETY: `pool` is the live request pool; the result is checked for null.
    let records = unsafe { ngx_palloc(pool, count * mem::size_of::<ngx_list_part_t>()) };
    match records.is_null() {
        true => Err(NoMemory),
        false => Ok(records.cast()),
    }
}

fn part(run: &Run) -> ngx_list_part_t {
    ngx_list_part_t {
        elts: run.elts.as_ptr().cast(),
        nelts: run.len,
        next: ptr::null_mut(),
    }
}
