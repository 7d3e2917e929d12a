//! The `RtecScheduler::Scheduler` servant: a [`Registry`] behind the IDL, in a POA of its
//! own, called the same way collocated or remote.
//!
//! Where the IDL leaves no exception for a failure, the servant does what TAO's
//! `Config_Scheduler` does: `compute_scheduling` on a graph with a cycle (or an operation
//! nothing runs) answers with an `ANOMALY_ERROR` anomaly that names the RT_Infos and keeps
//! no schedule, so `priority` and its kin then raise `NOT_SCHEDULED`.

use super::analysis::{Options, Schedule};
use super::idl::{
    scheduler, AnomalySeverity, ConfigInfoSet, CriticalityT, DependencyEnabledTypeT,
    DependencyInfo, DependencySet, DependencyTypeT, DispatchingTypeT, HandleT, ImportanceT,
    InfoTypeT, NotScheduled, OsPriority, PeriodT, PreemptionPriorityT, PreemptionSubpriorityT,
    QuantumT, RtInfo, RtInfoEnableStatePair, RtInfoEnabledTypeT, RtInfoSet, Scheduler,
    SchedulerRef, SchedulingAnomaly, SchedulingAnomalySet, ThreadsT, Time, UnknownPriorityLevel,
    UnknownTask, UtilizationBoundExceeded,
};
use super::registry::{Attributes, Registry, RegistryError};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::poa::{IdAssignment, Policy};
use orb::{ObjectRef, Orb, OrbError, OrbPoa};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The scheduler's state: the RT_Infos and the schedule last computed from them (gone as
/// soon as they change).
#[derive(Default)]
struct State {
    registry: Registry,
    schedule: Option<Schedule>,
}

/// The implementation of `RtecScheduler::Scheduler`.
#[derive(Default)]
pub struct SchedulerServant {
    state: Mutex<State>,
    /// At most this many dispatching lanes (the channel's priority queues), whatever
    /// range of OS priorities `compute_scheduling` is given.
    lanes: Option<usize>,
}

impl SchedulerServant {
    pub fn new(lanes: Option<usize>) -> SchedulerServant {
        SchedulerServant {
            state: Mutex::default(),
            lanes,
        }
    }

    /// The schedule last computed, with its verdict and response times (what the IDL has
    /// no room for).
    pub fn schedule(&self) -> Option<Schedule> {
        self.state.lock().schedule.clone()
    }

    /// A copy of the RT_Infos.
    pub fn registry(&self) -> Registry {
        self.state.lock().registry.clone()
    }

    /// Runs `f` on the registry and forgets the schedule, which no longer describes it.
    fn change<T>(
        &self,
        f: impl FnOnce(&mut Registry) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let mut st = self.state.lock();
        let r = f(&mut st.registry)?;
        st.schedule = None;
        Ok(r)
    }

    fn compute(
        &self,
        minimum_priority: i32,
        maximum_priority: i32,
    ) -> (
        RtInfoSet,
        DependencySet,
        Result<Schedule, SchedulingAnomaly>,
    ) {
        let options = Options {
            max_os_priority: maximum_priority,
            min_os_priority: minimum_priority,
            lanes: self.lanes,
        };
        let mut st = self.state.lock();
        let result = st.registry.schedule(&options);
        let outcome = match result {
            Ok(schedule) => {
                st.registry.apply(&schedule);
                st.schedule = Some(schedule.clone());
                Ok(schedule)
            }
            Err(e) => {
                st.schedule = None;
                Err(SchedulingAnomaly {
                    description: e.to_string(),
                    severity: AnomalySeverity::AnomalyError,
                })
            }
        };
        (
            st.registry.infos().to_vec(),
            st.registry.dependencies(),
            outcome,
        )
    }

    fn priorities_of(
        &self,
        handle: impl FnOnce(&Registry) -> Result<HandleT, RegistryError>,
    ) -> Result<(OsPriority, PreemptionSubpriorityT, PreemptionPriorityT), Refusal> {
        let st = self.state.lock();
        let h = handle(&st.registry).map_err(Refusal::Registry)?;
        let schedule = st.schedule.as_ref().ok_or(Refusal::NotScheduled)?;
        let row = schedule
            .tasks
            .iter()
            .find(|r| r.handle == h)
            // A disabled RT_Info takes no part in the schedule.
            .ok_or(Refusal::NotScheduled)?;
        Ok((row.os_priority, row.subpriority, row.preemption_priority))
    }
}

/// Why `priority` and `entry_point_priority` fail.
enum Refusal {
    Registry(RegistryError),
    NotScheduled,
}

/// A registry error as the exception the operation declares for it.
fn refuse<E: From<UnknownTask> + From<SystemException>>(e: RegistryError) -> E {
    match e {
        RegistryError::UnknownHandle(_)
        | RegistryError::UnknownName(_)
        | RegistryError::UnknownDependency { .. } => UnknownTask {}.into(),
        RegistryError::BadCallCount { .. } => {
            SystemException::new(SystemExceptionKind::BAD_PARAM, 0, CompletionStatus::No).into()
        }
        // Only `create` registers names, and it answers DUPLICATE_NAME itself.
        RegistryError::DuplicateName(_) => {
            SystemException::new(SystemExceptionKind::INTERNAL, 0, CompletionStatus::No).into()
        }
    }
}

fn refuse_priority<E: From<UnknownTask> + From<NotScheduled> + From<SystemException>>(
    r: Refusal,
) -> E {
    match r {
        Refusal::Registry(e) => refuse(e),
        Refusal::NotScheduled => NotScheduled {}.into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn attributes(
    criticality: CriticalityT,
    wc_time: Time,
    typical_time: Time,
    cached_time: Time,
    period: PeriodT,
    importance: ImportanceT,
    quantum: QuantumT,
    threads: ThreadsT,
    info_type: InfoTypeT,
) -> Attributes {
    Attributes {
        criticality,
        wcet: wc_time,
        typical: typical_time,
        cached: cached_time,
        period,
        importance,
        quantum,
        threads,
        info_type,
    }
}

/// Every handle of `infos` must be known before any of them is changed: a sequence is
/// applied whole or not at all.
fn set_all(reg: &mut Registry, infos: &[RtInfo]) -> Result<(), RegistryError> {
    for info in infos {
        reg.check(info.handle)?;
    }
    for info in infos {
        reg.set(info.handle, &Attributes::of(info))?;
    }
    Ok(())
}

impl Scheduler for SchedulerServant {
    fn create(&self, entry_point: &str) -> Result<HandleT, scheduler::CreateError> {
        self.change(|r| r.create(entry_point)).map_err(|e| match e {
            RegistryError::DuplicateName(_) => super::idl::DuplicateName {}.into(),
            // create names no other RT_Info, so nothing else can go wrong.
            _ => {
                SystemException::new(SystemExceptionKind::INTERNAL, 0, CompletionStatus::No).into()
            }
        })
    }

    fn lookup(&self, entry_point: &str) -> Result<HandleT, scheduler::LookupError> {
        self.state
            .lock()
            .registry
            .lookup(entry_point)
            .map_err(refuse)
    }

    fn get(&self, handle: HandleT) -> Result<RtInfo, scheduler::GetError> {
        self.state
            .lock()
            .registry
            .get(handle)
            .cloned()
            .map_err(refuse)
    }

    fn set(
        &self,
        handle: HandleT,
        criticality: CriticalityT,
        wc_time: Time,
        typical_time: Time,
        cached_time: Time,
        period: PeriodT,
        importance: ImportanceT,
        quantum: QuantumT,
        threads: ThreadsT,
        info_type: InfoTypeT,
    ) -> Result<(), scheduler::SetError> {
        let a = attributes(
            criticality,
            wc_time,
            typical_time,
            cached_time,
            period,
            importance,
            quantum,
            threads,
            info_type,
        );
        self.change(|r| r.set(handle, &a)).map_err(refuse)
    }

    fn reset(
        &self,
        handle: HandleT,
        criticality: CriticalityT,
        wc_time: Time,
        typical_time: Time,
        cached_time: Time,
        period: PeriodT,
        importance: ImportanceT,
        quantum: QuantumT,
        threads: ThreadsT,
        info_type: InfoTypeT,
    ) -> Result<(), scheduler::ResetError> {
        // One tuple of attributes per RT_Info here (see SCHEDULER.md), so dropping the
        // earlier ones and adding this one is setting it.
        self.set(
            handle,
            criticality,
            wc_time,
            typical_time,
            cached_time,
            period,
            importance,
            quantum,
            threads,
            info_type,
        )
        .map_err(|e| match e {
            scheduler::SetError::UnknownTask(x) => x.into(),
            scheduler::SetError::Internal(x) => x.into(),
            scheduler::SetError::SynchronizationFailure(x) => x.into(),
            scheduler::SetError::System(x) => x.into(),
        })
    }

    fn set_seq(&self, infos: &[RtInfo]) -> Result<(), scheduler::SetSeqError> {
        self.change(|r| set_all(r, infos)).map_err(refuse)
    }

    fn reset_seq(&self, infos: &[RtInfo]) -> Result<(), scheduler::ResetSeqError> {
        self.change(|r| set_all(r, infos)).map_err(refuse)
    }

    fn replace_seq(&self, infos: &[RtInfo]) -> Result<(), scheduler::ReplaceSeqError> {
        self.change(|r| {
            for info in infos {
                r.check(info.handle)?;
            }
            let named: std::collections::HashSet<HandleT> =
                infos.iter().map(|i| i.handle).collect();
            let others: Vec<HandleT> = r
                .infos()
                .iter()
                .map(|i| i.handle)
                .filter(|h| !named.contains(h))
                .collect();
            for h in others {
                r.clear(h)?;
            }
            set_all(r, infos)
        })
        .map_err(refuse)
    }

    fn add_dependency(
        &self,
        handle: HandleT,
        dependency: HandleT,
        number_of_calls: i32,
        dependency_type: DependencyTypeT,
    ) -> Result<(), scheduler::AddDependencyError> {
        self.change(|r| r.add_dependency(handle, dependency, number_of_calls, dependency_type))
            .map_err(refuse)
    }

    fn remove_dependency(
        &self,
        handle: HandleT,
        dependency: HandleT,
        number_of_calls: i32,
        dependency_type: DependencyTypeT,
    ) -> Result<(), scheduler::RemoveDependencyError> {
        self.change(|r| r.remove_dependency(handle, dependency, number_of_calls, dependency_type))
            .map_err(refuse)
    }

    fn set_dependency_enable_state(
        &self,
        handle: HandleT,
        dependency: HandleT,
        number_of_calls: i32,
        dependency_type: DependencyTypeT,
        enabled: DependencyEnabledTypeT,
    ) -> Result<(), scheduler::SetDependencyEnableStateError> {
        self.change(|r| {
            r.set_dependency_enabled(
                handle,
                dependency,
                number_of_calls,
                dependency_type,
                enabled,
            )
        })
        .map_err(refuse)
    }

    fn set_dependency_enable_state_seq(
        &self,
        dependencies: &[DependencyInfo],
    ) -> Result<(), scheduler::SetDependencyEnableStateSeqError> {
        self.change(|r| {
            // All or nothing: try the whole sequence on a copy first.
            let mut trial = r.clone();
            for d in dependencies {
                trial.set_dependency_enabled(
                    d.rt_info,
                    d.rt_info_depended_on,
                    d.number_of_calls,
                    d.dependency_type,
                    d.enabled,
                )?;
            }
            *r = trial;
            Ok(())
        })
        .map_err(refuse)
    }

    fn set_rt_info_enable_state(
        &self,
        handle: HandleT,
        enabled: RtInfoEnabledTypeT,
    ) -> Result<(), scheduler::SetRtInfoEnableStateError> {
        self.change(|r| r.set_enabled(handle, enabled))
            .map_err(refuse)
    }

    fn set_rt_info_enable_state_seq(
        &self,
        pair_set: &[RtInfoEnableStatePair],
    ) -> Result<(), scheduler::SetRtInfoEnableStateSeqError> {
        self.change(|r| {
            for p in pair_set {
                r.check(p.handle)?;
            }
            for p in pair_set {
                r.set_enabled(p.handle, p.enabled)?;
            }
            Ok(())
        })
        .map_err(refuse)
    }

    fn priority(
        &self,
        handle: HandleT,
    ) -> Result<(OsPriority, PreemptionSubpriorityT, PreemptionPriorityT), scheduler::PriorityError>
    {
        self.priorities_of(|r| r.check(handle).map(|_| handle))
            .map_err(refuse_priority)
    }

    fn entry_point_priority(
        &self,
        entry_point: &str,
    ) -> Result<
        (OsPriority, PreemptionSubpriorityT, PreemptionPriorityT),
        scheduler::EntryPointPriorityError,
    > {
        self.priorities_of(|r| r.lookup(entry_point))
            .map_err(refuse_priority)
    }

    fn compute_scheduling(
        &self,
        minimum_priority: i32,
        maximum_priority: i32,
    ) -> Result<
        (
            RtInfoSet,
            DependencySet,
            ConfigInfoSet,
            SchedulingAnomalySet,
        ),
        scheduler::ComputeSchedulingError,
    > {
        let (infos, deps, outcome) = self.compute(minimum_priority, maximum_priority);
        match outcome {
            Err(anomaly) => Ok((infos, deps, Vec::new(), vec![anomaly])),
            // The schedule is kept (its priorities are the best there are), but a client
            // must not take it for a feasible one.
            Ok(s) if !s.is_schedulable() => Err(UtilizationBoundExceeded {}.into()),
            Ok(s) => Ok((infos, deps, s.config_infos(), s.anomalies)),
        }
    }

    fn recompute_scheduling(
        &self,
        minimum_priority: i32,
        maximum_priority: i32,
    ) -> Result<SchedulingAnomalySet, scheduler::RecomputeSchedulingError> {
        let (_, _, outcome) = self.compute(minimum_priority, maximum_priority);
        match outcome {
            Err(anomaly) => Ok(vec![anomaly]),
            Ok(s) if !s.is_schedulable() => Err(UtilizationBoundExceeded {}.into()),
            Ok(s) => Ok(s.anomalies),
        }
    }

    fn get_rt_info_set(&self) -> Result<RtInfoSet, scheduler::GetRtInfoSetError> {
        Ok(self.state.lock().registry.infos().to_vec())
    }

    fn get_dependency_set(&self) -> Result<DependencySet, scheduler::GetDependencySetError> {
        Ok(self.state.lock().registry.dependencies())
    }

    fn get_config_info_set(&self) -> Result<ConfigInfoSet, scheduler::GetConfigInfoSetError> {
        Ok(self
            .state
            .lock()
            .schedule
            .as_ref()
            .map(Schedule::config_infos)
            .unwrap_or_default())
    }

    fn dispatch_configuration(
        &self,
        p_priority: PreemptionPriorityT,
    ) -> Result<(OsPriority, DispatchingTypeT), scheduler::DispatchConfigurationError> {
        let st = self.state.lock();
        let schedule = st.schedule.as_ref().ok_or(NotScheduled {})?;
        let lane = schedule
            .lanes
            .iter()
            .find(|l| l.preemption_priority == p_priority)
            .ok_or(UnknownPriorityLevel {})?;
        Ok((lane.os_priority, DispatchingTypeT::StaticDispatching))
    }

    fn last_scheduled_priority(
        &self,
    ) -> Result<PreemptionPriorityT, scheduler::LastScheduledPriorityError> {
        let st = self.state.lock();
        let schedule = st.schedule.as_ref().ok_or(NotScheduled {})?;
        Ok(schedule.lanes.last().map_or(0, |l| l.preemption_priority))
    }

    fn get_config_infos(&self) -> Result<ConfigInfoSet, scheduler::GetConfigInfosError> {
        let st = self.state.lock();
        let schedule = st.schedule.as_ref().ok_or(NotScheduled {})?;
        Ok(schedule.config_infos())
    }
}

static SCHEDULER_NUMBER: AtomicU64 = AtomicU64::new(0);

const SCHEDULER_ID: &[u8] = b"scheduler";

/// A scheduler served by an ORB, in a POA of its own under the root POA.
pub struct SchedulerService {
    orb: Orb,
    poa: OrbPoa,
    servant: Arc<SchedulerServant>,
    reference: SchedulerRef,
}

impl SchedulerService {
    /// A new, empty scheduler in `orb`; `lanes` caps the dispatching lanes it will ask for.
    pub fn start(orb: &Orb, lanes: Option<usize>) -> Result<SchedulerService, OrbError> {
        let root = orb.root_poa();
        let n = SCHEDULER_NUMBER.fetch_add(1, Ordering::Relaxed);
        let poa = root.create_poa(
            &format!("Scheduler{n}"),
            Some(root.manager().clone()),
            &[Policy::IdAssignment(IdAssignment::UserId)],
        )?;
        let servant = Arc::new(SchedulerServant::new(lanes));
        let tie: orb::ServantRef = Arc::new(scheduler::Tie::from_arc(servant.clone()));
        let obj = orb.activate_with_id(&poa, SCHEDULER_ID, tie)?;
        Ok(SchedulerService {
            orb: orb.clone(),
            poa,
            servant,
            reference: SchedulerRef::unchecked_narrow(obj),
        })
    }

    /// The scheduler, as the ORB it was started in sees it.
    pub fn reference(&self) -> &SchedulerRef {
        &self.reference
    }

    pub fn object(&self) -> &ObjectRef {
        self.reference.object()
    }

    /// The implementation, for what the IDL does not carry (the verdict, response times).
    pub fn servant(&self) -> &Arc<SchedulerServant> {
        &self.servant
    }

    /// Also serves the scheduler under the plain object key `key`
    /// (`corbaloc::HOST:PORT/KEY`).
    pub fn register_well_known(&self, key: &str) -> Result<ObjectRef, OrbError> {
        let servant = self.poa.id_to_servant(SCHEDULER_ID)?;
        self.orb.register_well_known(key, servant)
    }
}
