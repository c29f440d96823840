//! Bindings for `fidl/sdk/fuchsia.hardware.network/port.fidl`: the device classes that
//! `fuchsia.net.interfaces` reports. The device protocols are not declared: the netstack
//! drives Linux devices itself rather than Fuchsia network devices.

crate::fidl_flexible_enum! {
    /// What kind of device backs an interface.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PortClass: u16 {
        Ethernet = 1,
        WlanClient = 2,
        Ppp = 3,
        Bridge = 4,
        WlanAp = 5,
        /// A virtual device (the netstack reports TUN devices so).
        Virtual = 6,
        Lowpan = 7,
    }
}

crate::fidl_enum! {
    /// The older classification, superseded by [`PortClass`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum DeviceClass: u16 {
        Virtual = 0,
        Ethernet = 1,
        Wlan = 2,
        Ppp = 3,
        Bridge = 4,
        WlanAp = 5,
    }
}
