pub fn is_child() -> bool {
    false
}
pub fn child_main() {}
pub fn udp_multicast_federation() {}
