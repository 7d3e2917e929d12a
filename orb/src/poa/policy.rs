//! POA policies (CORBA 3.0 §11.3.7) and the rules on which combinations `create_POA` accepts,
//! plus rtorb's own choice of active object map strategy, passed like a policy, and RT-CORBA's
//! `PriorityModelPolicy` (a POA's own priority model and priority; without it, the ORB's).

use super::error::PoaError;
use crate::rt::{PriorityModelPolicy, MIN_PRIORITY};

/// §11.3.7.2 LifespanPolicy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lifespan {
    /// Objects cannot outlive the POA instance that created them.
    #[default]
    Transient,
    /// Objects can outlive the process: their keys resolve again once the application has
    /// re-created the POA (same path from the root) in a new ORB instance.
    Persistent,
}

/// §11.3.7.4 IdAssignmentPolicy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdAssignment {
    #[default]
    SystemId,
    UserId,
}

/// §11.3.7.3 IdUniquenessPolicy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdUniqueness {
    /// A servant incarnates at most one object of the POA.
    #[default]
    UniqueId,
    MultipleId,
}

/// §11.3.7.7 ImplicitActivationPolicy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ImplicitActivation {
    Implicit,
    #[default]
    NoImplicit,
}

/// §11.3.7.5 ServantRetentionPolicy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ServantRetention {
    #[default]
    Retain,
    NonRetain,
}

/// §11.3.7.6 RequestProcessingPolicy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RequestProcessing {
    #[default]
    UseActiveObjectMapOnly,
    UseDefaultServant,
    /// Not supported by rtorb (no servant activators or locators): `create_poa` answers
    /// InvalidPolicy, as create_POA (§11.3.8) allows for "policy objects ... not supported by
    /// this ORB implementation".
    UseServantManager,
}

/// How a POA's active object map finds an object (rtorb's, not CORBA's; per POA).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AomStrategy {
    /// Keys carry the slot index and generation: two array indexings, no hashing (TAO's active
    /// demultiplexing). Operations by id go through a hash index kept beside the slots.
    #[default]
    ActiveDemux,
    /// A vector scanned by object id: the baseline the design papers measured against.
    Linear,
    /// A hash map from object id.
    DynamicHash,
}

/// One entry of `create_POA`'s policy list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    Lifespan(Lifespan),
    IdAssignment(IdAssignment),
    IdUniqueness(IdUniqueness),
    ImplicitActivation(ImplicitActivation),
    ServantRetention(ServantRetention),
    RequestProcessing(RequestProcessing),
    ActiveObjectMap(AomStrategy),
    /// RT-CORBA 1.2 `PriorityModelPolicy`: how the POA's objects choose the priority their
    /// requests run at, and the POA's priority. A POA created without it has the ORB's
    /// (`-ORBpriorityModel`, `-ORBserverPriority`).
    PriorityModel(PriorityModelPolicy),
}

impl Policy {
    fn kind(&self) -> usize {
        match self {
            Policy::Lifespan(_) => 0,
            Policy::IdAssignment(_) => 1,
            Policy::IdUniqueness(_) => 2,
            Policy::ImplicitActivation(_) => 3,
            Policy::ServantRetention(_) => 4,
            Policy::RequestProcessing(_) => 5,
            Policy::ActiveObjectMap(_) => 6,
            Policy::PriorityModel(_) => 7,
        }
    }
}

const ID_ASSIGNMENT: usize = 1;
const ID_UNIQUENESS: usize = 2;
const IMPLICIT: usize = 3;
const RETENTION: usize = 4;
const PROCESSING: usize = 5;
const PRIORITY_MODEL: usize = 7;
const KINDS: usize = 8;

/// A POA's complete, validated set of policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Policies {
    pub lifespan: Lifespan,
    pub id_assignment: IdAssignment,
    pub id_uniqueness: IdUniqueness,
    pub implicit_activation: ImplicitActivation,
    pub servant_retention: ServantRetention,
    pub request_processing: RequestProcessing,
    pub aom: AomStrategy,
    /// The POA's own priority model, if it was given one (else the ORB's applies).
    pub priority_model: Option<PriorityModelPolicy>,
}

impl Policies {
    /// The RootPOA's policies (§11.2.3): the defaults, but with IMPLICIT_ACTIVATION.
    pub fn root() -> Self {
        Policies {
            implicit_activation: ImplicitActivation::Implicit,
            ..Policies::default()
        }
    }

    /// Builds the policies of a new POA from `create_POA`'s list; unlisted kinds take the
    /// defaults, not the parent's values (policies are not inherited, §11.3.8 create_POA).
    ///
    /// §11.3.8 (create_POA): "If any of the policy objects specified are not supported by this ORB
    /// implementation, if conflicting policy objects are specified, ... an InvalidPolicy
    /// exception is raised containing the index in the policies parameter value of the first
    /// offending policy object." rtorb's offender for each broken rule: a value it does not
    /// support, that policy; a kind named twice with different values (naming it twice with the
    /// same value is harmless), the second; two kinds whose values break a rule, the later of
    /// the two in the list, or the listed one if the other took its default. Of several
    /// offenders, the first in the list.
    pub fn from_list(list: &[Policy]) -> Result<Self, PoaError> {
        let mut at: [Option<usize>; KINDS] = [None; KINDS];
        let mut p = Policies::default();
        let mut first_bad = usize::MAX;
        for (i, pol) in list.iter().enumerate() {
            let k = pol.kind();
            if let Some(j) = at[k] {
                if list[j] != *pol {
                    first_bad = first_bad.min(i);
                }
                continue;
            }
            at[k] = Some(i);
            match *pol {
                Policy::Lifespan(v) => p.lifespan = v,
                Policy::IdAssignment(v) => p.id_assignment = v,
                Policy::IdUniqueness(v) => p.id_uniqueness = v,
                Policy::ImplicitActivation(v) => p.implicit_activation = v,
                Policy::ServantRetention(v) => p.servant_retention = v,
                Policy::RequestProcessing(v) => p.request_processing = v,
                Policy::ActiveObjectMap(v) => p.aom = v,
                Policy::PriorityModel(v) => p.priority_model = Some(v),
            }
        }
        // The policy "to blame" for a conflict between two kinds: the later of the listed ones.
        // At least one is listed, since the defaults are a valid combination.
        let blame = |a: usize, b: usize| match (at[a], at[b]) {
            (Some(x), Some(y)) => x.max(y),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => usize::MAX,
        };
        // §11.3.7.6: servant managers are not supported by this ORB implementation.
        if p.request_processing == RequestProcessing::UseServantManager {
            first_bad = first_bad.min(at[PROCESSING].unwrap_or(usize::MAX));
        }
        // §11.3.7.7: "IMPLICIT_ACTIVATION ... This policy also requires the SYSTEM_ID and
        // RETAIN policies."
        if p.implicit_activation == ImplicitActivation::Implicit {
            if p.id_assignment == IdAssignment::UserId {
                first_bad = first_bad.min(blame(IMPLICIT, ID_ASSIGNMENT));
            }
            if p.servant_retention == ServantRetention::NonRetain {
                first_bad = first_bad.min(blame(IMPLICIT, RETENTION));
            }
        }
        // §11.3.7.6: "USE_ACTIVE_OBJECT_MAP_ONLY ... The RETAIN policy is also required."
        // §11.3.7.5: "NON_RETAIN ... This policy requires either the USE_DEFAULT_SERVANT or
        // USE_SERVANT_MANAGER policies." (The same pair of kinds, read from either side.)
        if p.servant_retention == ServantRetention::NonRetain
            && p.request_processing == RequestProcessing::UseActiveObjectMapOnly
        {
            first_bad = first_bad.min(blame(RETENTION, PROCESSING));
        }
        // §11.3.7.6: "USE_DEFAULT_SERVANT ... The MULTIPLE_ID policy is also required."
        if p.request_processing == RequestProcessing::UseDefaultServant
            && p.id_uniqueness == IdUniqueness::UniqueId
        {
            first_bad = first_bad.min(blame(PROCESSING, ID_UNIQUENESS));
        }
        // RT-CORBA: a priority is a CORBA short from 0 (minPriority) to 32767 (maxPriority).
        if p.priority_model
            .is_some_and(|m| m.server_priority < MIN_PRIORITY)
        {
            first_bad = first_bad.min(at[PRIORITY_MODEL].unwrap_or(usize::MAX));
        }
        if first_bad == usize::MAX {
            Ok(p)
        } else {
            Err(PoaError::InvalidPolicy {
                index: u16::try_from(first_bad).unwrap_or(u16::MAX),
            })
        }
    }

    pub(crate) fn retain(&self) -> bool {
        self.servant_retention == ServantRetention::Retain
    }
    pub(crate) fn system_id(&self) -> bool {
        self.id_assignment == IdAssignment::SystemId
    }
    pub(crate) fn unique_id(&self) -> bool {
        self.id_uniqueness == IdUniqueness::UniqueId
    }
    pub(crate) fn implicit(&self) -> bool {
        self.implicit_activation == ImplicitActivation::Implicit
    }
    pub(crate) fn default_servant(&self) -> bool {
        self.request_processing == RequestProcessing::UseDefaultServant
    }
    pub(crate) fn persistent(&self) -> bool {
        self.lifespan == Lifespan::Persistent
    }
}
