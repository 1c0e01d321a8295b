//! The set of addresses in use in one pool: memory proportional to the addresses in use, O(log n)
//! operations.
//!
//! Addresses (or IPv6 prefixes) are numbered as `u128` "units". Besides the owner of each unit in
//! use, the set keeps the maximal runs of consecutive units in use, so that the first free unit at
//! or after any point is found with one ordered-map lookup: it is the point itself, or the unit just
//! after the run that covers it (a maximal run is always followed by a free unit).

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub(crate) struct Used {
    owners: BTreeMap<u128, Box<str>>,
    /// start -> end (both included) of each maximal run of units in use.
    runs: BTreeMap<u128, u128>,
}

impl Used {
    pub(crate) fn len(&self) -> u128 {
        self.owners.len() as u128
    }

    pub(crate) fn owner(&self, unit: u128) -> Option<&str> {
        self.owners.get(&unit).map(|o| &**o)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u128, &str)> {
        self.owners.iter().map(|(u, o)| (*u, &**o))
    }

    /// The first free unit in `first..=last`.
    pub(crate) fn first_free(&self, first: u128, last: u128) -> Option<u128> {
        let mut candidate = first;
        if let Some((_, &end)) = self.runs.range(..=first).next_back() {
            if end >= first {
                candidate = end.checked_add(1)?;
            }
        }
        (candidate <= last).then_some(candidate)
    }

    /// Marks `unit` used by `owner`; false (and no change) if it is in use already.
    pub(crate) fn insert(&mut self, unit: u128, owner: &str) -> bool {
        if self.owners.contains_key(&unit) {
            return false;
        }
        self.owners.insert(unit, owner.into());
        let left = unit
            .checked_sub(1)
            .and_then(|prev| self.runs.range(..=prev).next_back())
            .filter(|(_, end)| end.checked_add(1) == Some(unit))
            .map(|(start, _)| *start);
        let right = unit
            .checked_add(1)
            .and_then(|next| self.runs.remove_entry(&next));
        let start = left.unwrap_or(unit);
        let end = right.map_or(unit, |(_, end)| end);
        self.runs.insert(start, end);
        true
    }

    /// Frees `unit`, returning its owner; `None` (and no change) if it was not in use.
    pub(crate) fn remove(&mut self, unit: u128) -> Option<Box<str>> {
        let owner = self.owners.remove(&unit)?;
        let covering = self
            .runs
            .range(..=unit)
            .next_back()
            .map(|(start, end)| (*start, *end));
        if let Some((start, end)) = covering {
            self.runs.remove(&start);
            if start < unit {
                self.runs.insert(start, unit - 1);
            }
            if unit < end {
                self.runs.insert(unit + 1, end);
            }
        }
        Some(owner)
    }

    #[cfg(test)]
    pub(crate) fn runs(&self) -> Vec<(u128, u128)> {
        self.runs.iter().map(|(a, b)| (*a, *b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_and_split() {
        let mut u = Used::default();
        assert_eq!(u.first_free(5, 10), Some(5));
        assert!(u.insert(5, "a"));
        assert!(u.insert(7, "b"));
        assert_eq!(u.runs(), vec![(5, 5), (7, 7)]);
        assert!(u.insert(6, "c"));
        assert_eq!(u.runs(), vec![(5, 7)]);
        assert!(!u.insert(6, "d"));
        assert_eq!(u.owner(6), Some("c"));
        assert_eq!(u.first_free(5, 10), Some(8));
        assert_eq!(u.first_free(5, 7), None);
        assert_eq!(u.first_free(2, 10), Some(2));
        assert_eq!(u.remove(6).as_deref(), Some("c"));
        assert_eq!(u.runs(), vec![(5, 5), (7, 7)]);
        assert_eq!(u.remove(6), None);
        assert_eq!(u.first_free(5, 10), Some(6));
        assert_eq!(u.len(), 2);
    }

    #[test]
    fn edges_of_the_unit_space() {
        let mut u = Used::default();
        assert!(u.insert(u128::MAX, "a"));
        assert!(u.insert(0, "b"));
        assert_eq!(u.first_free(u128::MAX, u128::MAX), None);
        assert_eq!(u.first_free(0, 1), Some(1));
        assert!(u.insert(u128::MAX - 1, "c"));
        assert_eq!(u.runs(), vec![(0, 0), (u128::MAX - 1, u128::MAX)]);
        assert!(u.remove(u128::MAX).is_some());
        assert_eq!(u.runs(), vec![(0, 0), (u128::MAX - 1, u128::MAX - 1)]);
    }
}
