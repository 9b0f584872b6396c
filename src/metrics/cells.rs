//! Where the numbers of one layout live: in this process until NGINX installs the shared table,
//! then in the table, so every worker adds to the same totals.

use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

use super::layout::Layout;
use super::table::Table;

pub struct Cells {
    /// Used before (or without) a shared table: unit tests, `nginx -t`.
    local: Box<[AtomicU64]>,
    /// One entry per cell of the layout, resolved once; `None` for a cell the table had no
    /// room for (it is then neither recorded nor shown).
    shared: OnceLock<Box<[Option<&'static AtomicU64>]>>,
}

/// What installing a layout into a shared table did.
#[derive(Debug, PartialEq, Eq)]
pub struct Installed {
    /// Cells that found a number left by an earlier configuration (a reload kept the zone).
    pub reused: usize,
    /// Cells that did not fit: the zone is too small.
    pub dropped: usize,
}

impl Cells {
    pub fn new(layout: &Layout) -> Self {
        Cells {
            local: (0..layout.cells()).map(|_| AtomicU64::new(0)).collect(),
            shared: OnceLock::new(),
        }
    }

    /// The number at `index`; the hot path. `None` only for a cell that did not fit.
    #[inline]
    pub fn get(&self, index: u32) -> Option<&AtomicU64> {
        match self.shared.get() {
            Some(shared) => shared.get(index as usize).copied().flatten(),
            None => self.local.get(index as usize),
        }
    }

    /// Resolves every cell of `layout` in `table` (registering new keys), then switches to them.
    /// Done once per configuration, before workers start; a second install is ignored.
    pub fn install(&self, layout: &Layout, table: &Table<'static>) -> Installed {
        let mut installed = Installed {
            reused: 0,
            dropped: 0,
        };
        let resolved = layout
            .keys()
            .iter()
            .map(|key| {
                if table.find(key.as_bytes()).is_some() {
                    installed.reused += 1;
                }
                let cell = table.register(key.as_bytes());
                installed.dropped += usize::from(cell.is_none());
                cell
            })
            .collect();
        let _ = self.shared.set(resolved);
        installed
    }
}
