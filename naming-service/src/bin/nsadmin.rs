//! Administers a naming service, ours or any other (omniNames), as omniORB's `nameclt` does:
//! list the tree, bind, resolve, unbind, make and remove contexts. Names are INS strings
//! (`a/b.kind/c`).

use clap::{Parser, Subcommand};
use naming_service::cos_naming::{
    BindingType, Name, NamingContext, NamingContextExt, NamingContextExtRef, NamingContextRef,
};
use orb::{Orb, OrbOptions};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "nsadmin", about = "Administer a CosNaming naming service")]
struct Args {
    /// The naming service: a corbaloc/corbaname/IOR/file:// reference.
    #[arg(long, default_value = "corbaloc::127.0.0.1:2809/NameService")]
    ns: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lists a context (the root by default), recursively with --recursive.
    List {
        name: Option<String>,
        #[arg(long, short)]
        recursive: bool,
    },
    /// Binds NAME to an object given as IOR:, corbaloc: or corbaname:.
    Bind { name: String, object: String },
    /// Binds NAME to a new context.
    BindNewContext { name: String },
    /// Prints the IOR NAME is bound to.
    Resolve { name: String },
    /// Unbinds NAME.
    Unbind { name: String },
    /// Unbinds NAME and destroys the (empty) context it named.
    RemoveContext { name: String },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsadmin: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let orb = Orb::init(OrbOptions::from_env()?)?;
    let root = NamingContextExtRef::unchecked_narrow(orb.string_to_object(&args.ns)?);
    let name = |s: &str| -> Result<Name, Box<dyn std::error::Error>> {
        Ok(root.to_name(s).map_err(|e| format!("{s:?}: {e}"))?)
    };
    match args.command {
        Command::List { name: n, recursive } => {
            let ctx = match n {
                Some(n) => NamingContextRef::unchecked_narrow(
                    root.resolve(&name(&n)?).map_err(|e| format!("{n}: {e}"))?,
                ),
                None => NamingContextRef::unchecked_narrow(root.object().clone()),
            };
            list(&root, &ctx, "", recursive)?;
        }
        Command::Bind { name: n, object } => {
            let obj = orb.string_to_object(&object)?;
            root.bind(&name(&n)?, &obj)
                .map_err(|e| format!("{n}: {e}"))?;
        }
        Command::BindNewContext { name: n } => {
            root.bind_new_context(&name(&n)?)
                .map_err(|e| format!("{n}: {e}"))?;
        }
        Command::Resolve { name: n } => {
            let obj = root.resolve(&name(&n)?).map_err(|e| format!("{n}: {e}"))?;
            println!("{}", orb.object_to_string(&obj)?);
        }
        Command::Unbind { name: n } => {
            root.unbind(&name(&n)?).map_err(|e| format!("{n}: {e}"))?;
        }
        Command::RemoveContext { name: n } => {
            let full = name(&n)?;
            let ctx = NamingContextRef::unchecked_narrow(
                root.resolve(&full).map_err(|e| format!("{n}: {e}"))?,
            );
            ctx.destroy().map_err(|e| format!("{n}: {e}"))?;
            root.unbind(&full).map_err(|e| format!("{n}: {e}"))?;
        }
    }
    Ok(())
}

/// Prints a context's bindings, contexts with a trailing `/`, descending into them when
/// `recursive`.
fn list(
    root: &NamingContextExtRef,
    ctx: &NamingContextRef,
    prefix: &str,
    recursive: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let (mut bindings, iterator) = ctx.list(100)?;
    if !iterator.is_nil() {
        use naming_service::cos_naming::BindingIterator;
        loop {
            let (more, batch) = iterator.next_n(100)?;
            bindings.extend(batch);
            if !more {
                break;
            }
        }
        iterator.destroy()?;
    }
    for b in bindings {
        let text = root.to_string(&b.binding_name)?;
        let path = format!("{prefix}{text}");
        if b.binding_type == BindingType::Ncontext {
            println!("{path}/");
            if recursive {
                let sub = NamingContextRef::unchecked_narrow(ctx.resolve(&b.binding_name)?);
                list(root, &sub, &format!("{path}/"), true)?;
            }
        } else {
            println!("{path}");
        }
    }
    Ok(())
}
