//! The memory meter: enforces the policy's memory limit and records the peak.

use wasmtime::ResourceLimiter;

/// Tables may hold this many elements; generous for real toolchains
/// (CPython's function table has tens of thousands), finite for hostile ones.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Tracks the total linear memory of one call's instance.
///
/// wasmtime reports every memory creation and growth here, so the running
/// total is exact. A refused growth makes `memory.grow` return -1, which the
/// guest may handle (Python raises `MemoryError`); if the guest instead traps,
/// `hit_limit` lets the host classify the failure as a memory limit.
#[derive(Debug)]
pub struct MemoryMeter {
    limit: u64,
    current: u64,
    peak: u64,
    hit_limit: bool,
}

impl MemoryMeter {
    /// A meter allowing `limit` bytes of linear memory in total.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            current: 0,
            peak: 0,
            hit_limit: false,
        }
    }

    /// The highest total seen, in bytes.
    pub fn peak(&self) -> u64 {
        self.peak
    }

    /// Whether a growth was refused.
    pub fn hit_limit(&self) -> bool {
        self.hit_limit
    }

    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

impl ResourceLimiter for MemoryMeter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current) as u64;
        let total = self.current.saturating_add(grow);
        if total > self.limit {
            self.hit_limit = true;
            return Ok(false);
        }
        self.current = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_peak_and_refuses_past_limit() {
        let mut m = MemoryMeter::new(3 << 16);
        assert!(m.memory_growing(0, 1 << 16, None).unwrap());
        assert!(m.memory_growing(1 << 16, 2 << 16, None).unwrap());
        assert!(!m.memory_growing(2 << 16, 4 << 16, None).unwrap());
        assert!(m.hit_limit());
        assert_eq!(m.peak(), 2 << 16);
    }
}
