//! The channel's CORBA face: the `EventChannel` servant and its two admins. The admins hold
//! the channel weakly: the channel's servant is what keeps it.

use super::channel::{Core, ObserverRefusal, CONSUMER_ADMIN_ID, SUPPLIER_ADMIN_ID};
use super::idl::rtec_event_channel_admin::{
    consumer_admin, event_channel, supplier_admin, ConsumerAdmin, ConsumerAdminRef, EventChannel,
    ObserverHandle, ObserverRef, ProxyPushConsumerRef, ProxyPushSupplierRef, SupplierAdmin,
    SupplierAdminRef,
};
use crate::channel::gone;
use orb::exception::SystemException;
use std::sync::{Arc, Weak};

pub(crate) struct ChannelServant(pub Arc<Core>);

impl EventChannel for ChannelServant {
    fn for_consumers(&self) -> Result<ConsumerAdminRef, SystemException> {
        self.0.check_alive()?;
        let obj = self
            .0
            .reference(CONSUMER_ADMIN_ID, consumer_admin::REPOSITORY_ID)?;
        Ok(ConsumerAdminRef::unchecked_narrow(obj))
    }

    fn for_suppliers(&self) -> Result<SupplierAdminRef, SystemException> {
        self.0.check_alive()?;
        let obj = self
            .0
            .reference(SUPPLIER_ADMIN_ID, supplier_admin::REPOSITORY_ID)?;
        Ok(SupplierAdminRef::unchecked_narrow(obj))
    }

    fn destroy(&self) -> Result<(), SystemException> {
        self.0.check_alive()?;
        self.0.destroy();
        Ok(())
    }

    fn append_observer(
        &self,
        gw: &ObserverRef,
    ) -> Result<ObserverHandle, event_channel::AppendObserverError> {
        if gw.is_nil() {
            return Err(crate::channel::nil_reference().into());
        }
        self.0.append_observer(gw).map_err(|r| match r {
            ObserverRefusal::System(e) => e.into(),
            _ => event_channel::CantAppendObserver {}.into(),
        })
    }

    fn remove_observer(
        &self,
        gw: ObserverHandle,
    ) -> Result<(), event_channel::RemoveObserverError> {
        self.0.remove_observer(gw).map_err(|r| match r {
            ObserverRefusal::System(e) => e.into(),
            _ => event_channel::CantRemoveObserver {}.into(),
        })
    }
}

pub(crate) struct ConsumerAdminServant(pub Weak<Core>);

impl ConsumerAdmin for ConsumerAdminServant {
    fn obtain_push_supplier(&self) -> Result<ProxyPushSupplierRef, SystemException> {
        self.0.upgrade().ok_or_else(gone)?.obtain_push_supplier()
    }
}

pub(crate) struct SupplierAdminServant(pub Weak<Core>);

impl SupplierAdmin for SupplierAdminServant {
    fn obtain_push_consumer(&self) -> Result<ProxyPushConsumerRef, SystemException> {
        self.0.upgrade().ok_or_else(gone)?.obtain_push_consumer()
    }
}
