//! Prints the default policy as TOML.
fn main() {
    print!("{}", tierline_scoring::Policy::default().to_toml());
}
