//! An IDL3 component (components.idl) served and called through a real ORB by its equivalent
//! IDL: the component's servant implements the generated `Till` trait (with `CCMObject`'s
//! generic port operations), and a client, in the server's ORB and in another ORB over TCP,
//! gets its facet with `provide_clock()`, connects receptacles with `connect_logger()` and
//! `connect_mirrors()` (cookies), reaches them back, gets the user exceptions the equivalent IDL
//! declares, and pushes an event to the component's `consumes` port.

use idlc_tests::components::components::{
    self as ccm, AlreadyConnected, CcmHomeRef, CcmObject, CcmObjectRef, Cookie, EventConsumerBase,
    EventConsumerBaseRef, Events, InvalidConnection, InvalidName, Navigation, NoConnection,
    Receptacles,
};
use idlc_tests::components::shop::{
    self as s, Base, Clock, ClockRef, Logger, LoggerRef, Tick, TickConsumer, TickConsumerRef, Till,
    TillRef,
};
use orb::codegen::{ObjectRef, SystemException, ValueHandle, ValueType};
use orb::{CollocationStrategy, Orb, OrbOptions};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn orb(collocation: CollocationStrategy) -> Orb {
    Orb::init(OrbOptions {
        collocation,
        // Only a deadlock takes this long.
        request_timeout: Some(Duration::from_secs(20)),
        ..OrbOptions::default()
    })
    .expect("ORB")
}

struct FixedClock(i64);

impl Clock for FixedClock {
    fn now(&self) -> Result<i64, SystemException> {
        Ok(self.0)
    }
}

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl Logger for Lines {
    fn log(&self, line: &str) -> Result<(), SystemException> {
        self.0.lock().unwrap().push(line.to_owned());
        Ok(())
    }
}

/// The component's `tick_in` sink: the events pushed to it.
#[derive(Default)]
struct TickSink(Mutex<Vec<i64>>);

impl EventConsumerBase for TickSink {
    fn push_event(
        &self,
        _evt: &Option<ValueHandle<dyn ValueType>>,
    ) -> Result<(), ccm::event_consumer_base::PushEventError> {
        Err(SystemException::no_implement().into())
    }
}

impl TickConsumer for TickSink {
    fn push_tick(&self, the_tick: &Option<ValueHandle<Tick>>) -> Result<(), SystemException> {
        let at = the_tick.as_ref().and_then(|t| t.get()).map_or(-1, |t| t.at);
        self.0.lock().unwrap().push(at);
        Ok(())
    }
}

fn cookie(n: u8) -> Option<ValueHandle<Cookie>> {
    Some(ValueHandle::from_value(Cookie {
        cookie_value: vec![n],
    }))
}

fn cookie_byte(ck: &Option<ValueHandle<Cookie>>) -> Option<u8> {
    ck.as_ref()?.get()?.cookie_value.first().copied()
}

/// The component: its facet and sink references, its receptacles' connections.
struct TillImpl {
    clock: ClockRef,
    tick_in: TickConsumerRef,
    logger: Mutex<Option<LoggerRef>>,
    mirrors: Mutex<Vec<(u8, LoggerRef)>>,
    next_cookie: Mutex<u8>,
}

impl Navigation for TillImpl {
    fn provide_facet(&self, name: &str) -> Result<ObjectRef, ccm::navigation::ProvideFacetError> {
        match name {
            "clock" => Ok(self.clock.object().clone()),
            _ => Err(InvalidName {}.into()),
        }
    }
    fn same_component(&self, _object_ref: &ObjectRef) -> Result<bool, SystemException> {
        Err(SystemException::no_implement())
    }
}

impl Receptacles for TillImpl {
    fn connect(
        &self,
        _name: &str,
        _connection: &ObjectRef,
    ) -> Result<Option<ValueHandle<Cookie>>, ccm::receptacles::ConnectError> {
        Err(SystemException::no_implement().into())
    }
    fn disconnect(
        &self,
        _name: &str,
        _ck: &Option<ValueHandle<Cookie>>,
    ) -> Result<ObjectRef, ccm::receptacles::DisconnectError> {
        Err(SystemException::no_implement().into())
    }
}

impl Events for TillImpl {
    fn get_consumer(
        &self,
        _sink_name: &str,
    ) -> Result<EventConsumerBaseRef, ccm::events::GetConsumerError> {
        Err(SystemException::no_implement().into())
    }
    fn subscribe(
        &self,
        _publisher_name: &str,
        _subscriber: &EventConsumerBaseRef,
    ) -> Result<Option<ValueHandle<Cookie>>, ccm::events::SubscribeError> {
        Err(SystemException::no_implement().into())
    }
    fn unsubscribe(
        &self,
        _publisher_name: &str,
        _ck: &Option<ValueHandle<Cookie>>,
    ) -> Result<EventConsumerBaseRef, ccm::events::UnsubscribeError> {
        Err(SystemException::no_implement().into())
    }
    fn connect_consumer(
        &self,
        _emitter_name: &str,
        _consumer: &EventConsumerBaseRef,
    ) -> Result<(), ccm::events::ConnectConsumerError> {
        Err(SystemException::no_implement().into())
    }
    fn disconnect_consumer(
        &self,
        _source_name: &str,
    ) -> Result<EventConsumerBaseRef, ccm::events::DisconnectConsumerError> {
        Err(SystemException::no_implement().into())
    }
}

impl CcmObject for TillImpl {
    fn get_ccm_home(&self) -> Result<CcmHomeRef, SystemException> {
        Ok(CcmHomeRef::nil())
    }
    fn get_primary_key(
        &self,
    ) -> Result<Option<ValueHandle<dyn ValueType>>, ccm::ccm_object::GetPrimaryKeyError> {
        Err(ccm::NoKeyAvailable {}.into())
    }
    fn configuration_complete(&self) -> Result<(), ccm::ccm_object::ConfigurationCompleteError> {
        Ok(())
    }
    fn remove(&self) -> Result<(), ccm::ccm_object::RemoveError> {
        Err(SystemException::no_implement().into())
    }
}

impl Base for TillImpl {
    fn label(&self) -> Result<String, SystemException> {
        Ok("till 1".into())
    }
    fn set_label(&self, _value: &str) -> Result<(), SystemException> {
        Err(SystemException::no_implement())
    }
}

impl Clock for TillImpl {
    fn now(&self) -> Result<i64, SystemException> {
        self.clock.now()
    }
}

impl Till for TillImpl {
    fn provide_clock(&self) -> Result<ClockRef, SystemException> {
        Ok(self.clock.clone())
    }
    fn provide_anything(&self) -> Result<ObjectRef, SystemException> {
        Ok(self.clock.object().clone())
    }
    fn connect_logger(&self, conxn: &LoggerRef) -> Result<(), s::till::ConnectLoggerError> {
        let mut logger = self.logger.lock().unwrap();
        if logger.is_some() {
            return Err(AlreadyConnected {}.into());
        }
        *logger = Some(conxn.clone());
        Ok(())
    }
    fn disconnect_logger(&self) -> Result<LoggerRef, s::till::DisconnectLoggerError> {
        let taken = self.logger.lock().unwrap().take();
        taken.ok_or_else(|| NoConnection {}.into())
    }
    fn get_connection_logger(&self) -> Result<LoggerRef, SystemException> {
        Ok(self
            .logger
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(LoggerRef::nil))
    }
    fn connect_mirrors(
        &self,
        connection: &LoggerRef,
    ) -> Result<Option<ValueHandle<Cookie>>, s::till::ConnectMirrorsError> {
        let mut next = self.next_cookie.lock().unwrap();
        *next += 1;
        self.mirrors
            .lock()
            .unwrap()
            .push((*next, connection.clone()));
        Ok(cookie(*next))
    }
    fn disconnect_mirrors(
        &self,
        ck: &Option<ValueHandle<Cookie>>,
    ) -> Result<LoggerRef, s::till::DisconnectMirrorsError> {
        let mut mirrors = self.mirrors.lock().unwrap();
        let at = mirrors
            .iter()
            .position(|(c, _)| Some(*c) == cookie_byte(ck))
            .ok_or(InvalidConnection {})?;
        Ok(mirrors.remove(at).1)
    }
    fn get_connections_mirrors(&self) -> Result<s::till::MirrorsConnections, SystemException> {
        Ok(self
            .mirrors
            .lock()
            .unwrap()
            .iter()
            .map(|(c, l)| s::till::MirrorsConnection {
                objref: l.clone(),
                ck: cookie(*c),
            })
            .collect())
    }
    fn connect_ticks(&self, _consumer: &TickConsumerRef) -> Result<(), s::till::ConnectTicksError> {
        Err(SystemException::no_implement().into())
    }
    fn disconnect_ticks(&self) -> Result<TickConsumerRef, s::till::DisconnectTicksError> {
        Err(SystemException::no_implement().into())
    }
    fn subscribe_alarms(
        &self,
        _consumer: &s::AlarmConsumerRef,
    ) -> Result<Option<ValueHandle<Cookie>>, s::till::SubscribeAlarmsError> {
        Err(SystemException::no_implement().into())
    }
    fn unsubscribe_alarms(
        &self,
        _ck: &Option<ValueHandle<Cookie>>,
    ) -> Result<s::AlarmConsumerRef, s::till::UnsubscribeAlarmsError> {
        Err(SystemException::no_implement().into())
    }
    fn get_consumer_tick_in(&self) -> Result<TickConsumerRef, SystemException> {
        Ok(self.tick_in.clone())
    }
    fn sales(&self) -> Result<i32, SystemException> {
        Ok(3)
    }
}

#[test]
fn a_component_is_served_and_its_ports_used_through_its_equivalent_interface() {
    orb::codegen::register_value_factory::<Cookie>();
    orb::codegen::register_value_factory::<Tick>();
    for strategy in [
        CollocationStrategy::None,
        CollocationStrategy::ThruPoa,
        CollocationStrategy::Direct,
    ] {
        for remote in [false, true] {
            let case = format!("{strategy:?}, remote {remote}");
            let server = orb(strategy);
            let poa = server.root_poa();
            let clock = server
                .activate(&poa, s::clock::servant(FixedClock(1234)))
                .expect("activate clock");
            let sink = Arc::new(TickSink::default());
            let tick_in = server
                .activate(
                    &poa,
                    Arc::new(s::tick_consumer::Tie::from_arc(sink.clone())),
                )
                .expect("activate sink");
            let till = server
                .activate(
                    &poa,
                    s::till::servant(TillImpl {
                        clock: ClockRef::unchecked_narrow(clock),
                        tick_in: TickConsumerRef::unchecked_narrow(tick_in),
                        logger: Mutex::new(None),
                        mirrors: Mutex::new(Vec::new()),
                        next_cookie: Mutex::new(0),
                    }),
                )
                .expect("activate till");
            let client = if remote {
                orb(strategy)
            } else {
                server.clone()
            };
            let lines = Arc::new(Lines::default());
            let logger = client
                .activate(
                    &client.root_poa(),
                    Arc::new(s::logger::Tie::from_arc(lines.clone())),
                )
                .expect("activate logger");
            let logger = LoggerRef::unchecked_narrow(logger);
            let ior = server.object_to_string(&till).unwrap();
            let obj = client.string_to_object(&ior).unwrap();
            let till = TillRef::narrow(&obj).unwrap().expect("a Till");

            // A facet, by its own operation and through CCMObject's generic one.
            assert_eq!(till.provide_clock().unwrap().now().unwrap(), 1234, "{case}");
            let generic = CcmObjectRef::narrow(&obj).unwrap().expect("a CCMObject");
            let facet = generic.provide_facet("clock").unwrap();
            let facet = ClockRef::narrow(&facet).unwrap().expect("a Clock");
            assert_eq!(facet.now().unwrap(), 1234, "{case}");
            assert!(matches!(
                generic.provide_facet("nothing"),
                Err(ccm::navigation::ProvideFacetError::InvalidName(_))
            ));
            // The supported interface and the base component's attribute.
            assert_eq!(till.now().unwrap(), 1234, "{case}");
            assert_eq!(till.label().unwrap(), "till 1", "{case}");
            assert_eq!(till.sales().unwrap(), 3, "{case}");

            // A simplex receptacle: connected once, used, disconnected once.
            till.connect_logger(&logger).expect(&case);
            assert!(
                matches!(
                    till.connect_logger(&logger),
                    Err(s::till::ConnectLoggerError::AlreadyConnected(_))
                ),
                "{case}"
            );
            till.get_connection_logger().unwrap().log("opened").unwrap();
            assert_eq!(*lines.0.lock().unwrap(), ["opened"], "{case}");
            till.disconnect_logger()
                .expect(&case)
                .log("closed")
                .unwrap();
            assert!(
                matches!(
                    till.disconnect_logger(),
                    Err(s::till::DisconnectLoggerError::NoConnection(_))
                ),
                "{case}"
            );

            // A multiplex receptacle: a cookie per connection.
            let first = till.connect_mirrors(&logger).expect(&case);
            let second = till.connect_mirrors(&logger).expect(&case);
            assert_eq!(
                (cookie_byte(&first), cookie_byte(&second)),
                (Some(1), Some(2))
            );
            let connections = till.get_connections_mirrors().unwrap();
            let cookies: Vec<_> = connections.iter().map(|c| cookie_byte(&c.ck)).collect();
            assert_eq!(cookies, [Some(1), Some(2)], "{case}");
            connections[1].objref.log("mirrored").unwrap();
            till.disconnect_mirrors(&first).expect(&case);
            assert!(
                matches!(
                    till.disconnect_mirrors(&first),
                    Err(s::till::DisconnectMirrorsError::InvalidConnection(_))
                ),
                "{case}"
            );
            assert_eq!(till.get_connections_mirrors().unwrap().len(), 1, "{case}");
            assert_eq!(*lines.0.lock().unwrap(), ["opened", "closed", "mirrored"]);

            // An event sink: the eventtype (a valuetype) arrives at the consumer.
            let consumer = till.get_consumer_tick_in().unwrap();
            consumer
                .push_tick(&Some(ValueHandle::from_value(Tick { at: 77 })))
                .expect(&case);
            assert_eq!(*sink.0.lock().unwrap(), [77], "{case}");

            client.shutdown(true);
            server.shutdown(true);
        }
    }
}
