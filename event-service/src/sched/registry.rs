//! The RT_Info registry: the operations of an application, their timing and importance, and
//! the dependencies between them, kept as TAO's `RtecScheduler` keeps them.
//!
//! Handles are dense and start at 1 (TAO's schedulers count them from 1, and a handle of 0
//! means "none" to its clients). Every change forgets the computed priorities: a schedule is
//! valid only for the registry it was computed from.

use super::analysis::{analyze, AnalysisError, Options, Schedule};
use super::idl::{
    CriticalityT, DependencyEnabledTypeT, DependencyInfo, DependencyTypeT, HandleT, ImportanceT,
    InfoTypeT, PeriodT, RtInfo, RtInfoEnabledTypeT, ThreadsT, Time,
};
use std::collections::HashMap;

/// The input attributes of an RT_Info: what `set` takes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Attributes {
    pub criticality: CriticalityT,
    /// Worst-case execution time, in 100 ns units.
    pub wcet: Time,
    pub typical: Time,
    pub cached: Time,
    /// Period in 100 ns units; 0 for an operation that runs only when something calls it.
    pub period: PeriodT,
    pub importance: ImportanceT,
    pub quantum: Time,
    pub threads: ThreadsT,
    pub info_type: InfoTypeT,
}

impl Attributes {
    /// The attributes of an RT_Info as it holds them.
    pub fn of(info: &RtInfo) -> Attributes {
        Attributes {
            criticality: info.criticality,
            wcet: info.worst_case_execution_time,
            typical: info.typical_execution_time,
            cached: info.cached_execution_time,
            period: info.period,
            importance: info.importance,
            quantum: info.quantum,
            threads: info.threads,
            info_type: info.info_type,
        }
    }
}

/// Why a registry operation was refused: each is one of `RtecScheduler`'s exceptions.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// `UNKNOWN_TASK`.
    #[error("UNKNOWN_TASK: no RT_Info has handle {0}")]
    UnknownHandle(HandleT),
    /// `UNKNOWN_TASK`.
    #[error("UNKNOWN_TASK: no RT_Info has entry point {0:?}")]
    UnknownName(String),
    /// `UNKNOWN_TASK` (the IDL's choice for a dependency that is not there).
    #[error("UNKNOWN_TASK: RT_Info {handle} has no {kind:?} dependency on {dependency} with {calls} calls")]
    UnknownDependency {
        handle: HandleT,
        dependency: HandleT,
        calls: i32,
        kind: DependencyTypeT,
    },
    /// `DUPLICATE_NAME`.
    #[error("DUPLICATE_NAME: entry point {0:?} is registered already")]
    DuplicateName(String),
    /// A call count below 1 describes no call: `BAD_PARAM` on the wire, as the IDL has no
    /// user exception for it.
    #[error("BAD_PARAM: a dependency of RT_Info {handle} on {dependency} with {calls} calls (at least 1 needed)")]
    BadCallCount {
        handle: HandleT,
        dependency: HandleT,
        calls: i32,
    },
}

/// The RT_Infos of one application.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Index `handle - 1`.
    infos: Vec<RtInfo>,
    by_name: HashMap<String, HandleT>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// A registry holding `infos` as another scheduler reported them (`get_rt_info_set`):
    /// handles must be 1..=n, each once, and every dependency must name one of them.
    pub fn from_infos(infos: &[RtInfo]) -> Result<Registry, RegistryError> {
        let mut sorted: Vec<RtInfo> = infos.to_vec();
        sorted.sort_by_key(|i| i.handle);
        let mut reg = Registry::new();
        for (i, info) in sorted.into_iter().enumerate() {
            if usize::try_from(info.handle).ok() != Some(i + 1) {
                return Err(RegistryError::UnknownHandle(info.handle));
            }
            if reg.by_name.contains_key(&info.entry_point) {
                return Err(RegistryError::DuplicateName(info.entry_point));
            }
            reg.by_name.insert(info.entry_point.clone(), info.handle);
            reg.infos.push(info);
        }
        for info in &reg.infos {
            for d in &info.dependencies {
                reg.index(d.rt_info_depended_on)?;
            }
        }
        Ok(reg)
    }

    /// `create`: a new RT_Info with TAO's initial values (all times and the period 0, the
    /// lowest criticality and importance, an enabled OPERATION).
    pub fn create(&mut self, entry_point: &str) -> Result<HandleT, RegistryError> {
        if self.by_name.contains_key(entry_point) {
            return Err(RegistryError::DuplicateName(entry_point.to_owned()));
        }
        let handle = HandleT::try_from(self.infos.len() + 1)
            .map_err(|_| RegistryError::DuplicateName(entry_point.to_owned()))?;
        self.infos.push(fresh(entry_point, handle));
        self.by_name.insert(entry_point.to_owned(), handle);
        Ok(handle)
    }

    pub fn lookup(&self, entry_point: &str) -> Result<HandleT, RegistryError> {
        self.by_name
            .get(entry_point)
            .copied()
            .ok_or_else(|| RegistryError::UnknownName(entry_point.to_owned()))
    }

    pub fn get(&self, handle: HandleT) -> Result<&RtInfo, RegistryError> {
        Ok(&self.infos[self.index(handle)?])
    }

    /// `set` (and `reset`): the input attributes, replaced. The computed ones are kept for
    /// `get` until the next schedule.
    pub fn set(&mut self, handle: HandleT, a: &Attributes) -> Result<(), RegistryError> {
        let i = self.index(handle)?;
        let info = &mut self.infos[i];
        info.criticality = a.criticality;
        info.worst_case_execution_time = a.wcet;
        info.typical_execution_time = a.typical;
        info.cached_execution_time = a.cached;
        info.period = a.period;
        info.importance = a.importance;
        info.quantum = a.quantum;
        info.threads = a.threads;
        info.info_type = a.info_type;
        Ok(())
    }

    /// What `replace_seq` does to the RT_Infos it does not name: back to `create`'s values,
    /// dependencies dropped, name and handle kept.
    pub fn clear(&mut self, handle: HandleT) -> Result<(), RegistryError> {
        let i = self.index(handle)?;
        let name = std::mem::take(&mut self.infos[i].entry_point);
        self.infos[i] = fresh(&name, handle);
        Ok(())
    }

    /// `add_dependency(handle, dependency, calls, kind)`, recorded in `handle`'s RT_Info as
    /// `rt_info = handle, rt_info_depended_on = dependency`. What it means for the rates
    /// follows TAO: a two-way call runs `dependency` inside `handle`'s dispatch (`handle`
    /// calls it), a one-way one makes `dependency` the source of `handle`'s dispatches (an
    /// event `dependency` pushes makes `handle` run).
    pub fn add_dependency(
        &mut self,
        handle: HandleT,
        dependency: HandleT,
        calls: i32,
        kind: DependencyTypeT,
    ) -> Result<(), RegistryError> {
        let i = self.index(handle)?;
        self.index(dependency)?;
        if calls < 1 {
            return Err(RegistryError::BadCallCount {
                handle,
                dependency,
                calls,
            });
        }
        self.infos[i].dependencies.push(DependencyInfo {
            dependency_type: kind,
            number_of_calls: calls,
            rt_info: handle,
            rt_info_depended_on: dependency,
            enabled: DependencyEnabledTypeT::DependencyEnabled,
        });
        Ok(())
    }

    pub fn remove_dependency(
        &mut self,
        handle: HandleT,
        dependency: HandleT,
        calls: i32,
        kind: DependencyTypeT,
    ) -> Result<(), RegistryError> {
        let (i, at) = self.find_dependency(handle, dependency, calls, kind)?;
        self.infos[i].dependencies.remove(at);
        Ok(())
    }

    pub fn set_dependency_enabled(
        &mut self,
        handle: HandleT,
        dependency: HandleT,
        calls: i32,
        kind: DependencyTypeT,
        enabled: DependencyEnabledTypeT,
    ) -> Result<(), RegistryError> {
        let (i, at) = self.find_dependency(handle, dependency, calls, kind)?;
        self.infos[i].dependencies[at].enabled = enabled;
        Ok(())
    }

    pub fn set_enabled(
        &mut self,
        handle: HandleT,
        enabled: RtInfoEnabledTypeT,
    ) -> Result<(), RegistryError> {
        let i = self.index(handle)?;
        self.infos[i].enabled = enabled;
        Ok(())
    }

    /// Every RT_Info, in handle order.
    pub fn infos(&self) -> &[RtInfo] {
        &self.infos
    }

    /// Every dependency of every RT_Info, in handle order.
    pub fn dependencies(&self) -> Vec<DependencyInfo> {
        self.infos
            .iter()
            .flat_map(|i| i.dependencies.iter().cloned())
            .collect()
    }

    /// Whether `handle` names an RT_Info.
    pub fn check(&self, handle: HandleT) -> Result<(), RegistryError> {
        self.index(handle).map(|_| ())
    }

    /// Rate-monotonic priorities and the schedulability verdict for the registry as it is
    /// (see [`analyze`]); the registry is not changed (see [`Registry::apply`]).
    pub fn schedule(&self, options: &Options) -> Result<Schedule, AnalysisError> {
        analyze(&self.infos, options)
    }

    /// Writes a schedule's priorities into the RT_Infos, as `compute_scheduling` does.
    pub fn apply(&mut self, schedule: &Schedule) {
        for row in &schedule.tasks {
            if let Ok(i) = self.index(row.handle) {
                let info = &mut self.infos[i];
                info.priority = row.os_priority;
                info.preemption_priority = row.preemption_priority;
                info.preemption_subpriority = row.subpriority;
            }
        }
    }

    fn index(&self, handle: HandleT) -> Result<usize, RegistryError> {
        usize::try_from(handle)
            .ok()
            .and_then(|h| h.checked_sub(1))
            .filter(|i| *i < self.infos.len())
            .ok_or(RegistryError::UnknownHandle(handle))
    }

    fn find_dependency(
        &self,
        handle: HandleT,
        dependency: HandleT,
        calls: i32,
        kind: DependencyTypeT,
    ) -> Result<(usize, usize), RegistryError> {
        let i = self.index(handle)?;
        let at = self.infos[i]
            .dependencies
            .iter()
            .position(|d| {
                d.rt_info_depended_on == dependency
                    && d.number_of_calls == calls
                    && d.dependency_type == kind
            })
            .ok_or(RegistryError::UnknownDependency {
                handle,
                dependency,
                calls,
                kind,
            })?;
        Ok((i, at))
    }
}

fn fresh(entry_point: &str, handle: HandleT) -> RtInfo {
    RtInfo {
        entry_point: entry_point.to_owned(),
        handle,
        info_type: InfoTypeT::Operation,
        enabled: RtInfoEnabledTypeT::RtInfoEnabled,
        ..RtInfo::default()
    }
}
