//! `rtorb ns` against a naming-service daemon: the same commands and messages as `nsadmin`
//! (it runs the same library code), end to end.

mod common;

use common::*;

#[test]
fn binds_lists_resolves_and_removes() {
    let (_ns, ior) = start_daemon("naming-service", &[]);
    let ns = |args: &[&str]| -> String {
        let mut all = vec!["ns", "--ns", &ior];
        all.extend_from_slice(args);
        rtorb_ok(&all)
    };
    let ctx = ns(&["bind-new-context", "apps"]);
    assert!(ctx.starts_with("IOR:"), "{ctx}");
    // Any object will do: the naming service's own root.
    assert_eq!(ns(&["bind", "apps/root.ctx", &ior]), "");
    assert_eq!(ns(&["list", "--recursive"]), "apps/\napps/root.ctx\n");
    assert_eq!(ns(&["list", "apps"]), "root.ctx\n");
    let resolved = ns(&["resolve", "apps/root.ctx"]);
    assert!(resolved.starts_with("IOR:"), "{resolved}");
    let decoded = rtorb_ok(&["ior", "decode", resolved.trim()]);
    assert!(decoded.contains("NamingContextExt"), "{decoded}");

    assert_eq!(ns(&["unbind", "apps/root.ctx"]), "");
    assert_eq!(ns(&["remove-context", "apps"]), "");
    assert_eq!(ns(&["list"]), "");
}

#[test]
fn failures_name_the_command_the_service_and_the_reason() {
    let (_ns, ior) = start_daemon("naming-service", &[]);
    let out = rtorb(&["ns", "--ns", &ior, "resolve", "nowhere/thing"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "rtorb ns: resolve \"nowhere/thing\" at {ior}: \"nowhere\" is not bound in the root \
             context\n"
        )
    );

    let out = rtorb(&["ns", "--ns", &ior, "bind", "a//b", &ior]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("\"a//b\" is not a name"),
        "{}",
        stderr(&out)
    );

    let out = rtorb(&["ns", "--ns", &ior, "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unrecognized subcommand 'frobnicate'"),
        "{}",
        stderr(&out)
    );
}
