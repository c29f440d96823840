//! A table of values under generational keys: a key whose value was removed is refused,
//! even after its slot holds a newer value, so a late readiness event or stack event for a
//! closed socket cannot reach the next one.

/// A slot index and its generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    /// The key as one 64-bit number (a reactor token).
    pub(crate) fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    /// The key a 64-bit number stands for.
    pub(crate) fn from_u64(token: u64) -> Self {
        Self { index: token as u32, generation: (token >> 32) as u32 }
    }
}

/// Values under generational keys.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self { slots: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slab<T> {
    /// Stores `value`; `None` only when 2^32 slots are in use.
    pub(crate) fn insert(&mut self, value: T) -> Option<Key> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.slots.len()).ok()?;
                self.slots.push((0, None));
                index
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.1 = Some(value);
        Some(Key { index, generation: slot.0 })
    }

    /// The value under `key`, if it is still there.
    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        self.slots.get(key.index as usize).filter(|s| s.0 == key.generation).and_then(|s| s.1.as_ref())
    }

    /// The value under `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.slots.get_mut(key.index as usize).filter(|s| s.0 == key.generation).and_then(|s| s.1.as_mut())
    }

    /// Every value held, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.1.as_ref())
    }

    /// Takes the value under `key` out; its slot's next value gets a new generation.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize).filter(|s| s.0 == key.generation)?;
        let value = slot.1.take()?;
        slot.0 = slot.0.wrapping_add(1);
        // A slot whose generation wrapped is retired rather than risk an old key matching.
        if slot.0 != 0 {
            self.free.push(key.index);
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_keys_stay_dead_after_the_slot_is_reused() {
        let mut slab = Slab::default();
        let a = slab.insert("a").unwrap();
        assert_eq!(Key::from_u64(a.to_u64()), a);
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b").unwrap();
        assert_eq!(b.index, a.index);
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.get(b), Some(&"b"));
        assert_eq!(slab.remove(a), None);
    }
}
