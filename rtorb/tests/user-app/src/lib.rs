//! A user's crate, written as the guide says, depending on `rtorb` alone: the generated
//! module and a servant of `Inventory::Store` (a catalog that can be added to).
#![forbid(unsafe_code)]

pub mod inventory {
    include!(concat!(env!("OUT_DIR"), "/inventory.rs"));
}

use inventory::inventory::{catalog, Catalog, Detail, Item, Items, Store, Unknown};
use rtorb::{Any, SystemException};
use std::sync::Mutex;

/// The items added, their details, the owner and how many times it was touched.
#[derive(Default)]
pub struct StoreImpl {
    items: Mutex<Vec<(Item, Detail)>>,
    owner: Mutex<String>,
    touched: Mutex<u32>,
}

impl StoreImpl {
    fn with_item<T>(&self, name: &str, f: impl FnOnce(&(Item, Detail)) -> T) -> Result<T, Unknown> {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        match items.iter().find(|(it, _)| it.name == name) {
            Some(found) => Ok(f(found)),
            None => Err(Unknown {
                name: name.to_owned(),
            }),
        }
    }
}

impl Catalog for StoreImpl {
    fn size(&self) -> Result<u32, SystemException> {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        Ok(items.len() as u32)
    }
    fn list(&self) -> Result<Items, SystemException> {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        Ok(items.iter().map(|(it, _)| it.clone()).collect())
    }
    fn find(&self, name: &str) -> Result<Item, catalog::FindError> {
        Ok(self.with_item(name, |(it, _)| it.clone())?)
    }
    /// The maker of a tool or the number of a part, in an `any`.
    fn describe(&self, name: &str) -> Result<Any, catalog::DescribeError> {
        Ok(self.with_item(name, |(_, d)| match d {
            Detail::Maker(m) => Any::from(m.as_str()),
            Detail::Number(n) => Any::from(*n),
        })?)
    }
}

impl Store for StoreImpl {
    fn owner(&self) -> Result<String, SystemException> {
        Ok(self.owner.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
    fn set_owner(&self, value: &str) -> Result<(), SystemException> {
        *self.owner.lock().unwrap_or_else(|p| p.into_inner()) = value.to_owned();
        Ok(())
    }
    fn add(&self, it: &Item, d: &Detail) -> Result<(), SystemException> {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items.push((it.clone(), d.clone()));
        Ok(())
    }
    fn touch(&self) -> Result<(), SystemException> {
        *self.touched.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        Ok(())
    }
}
