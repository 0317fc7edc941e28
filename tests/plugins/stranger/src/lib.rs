//! A valid component of another world entirely: not a compose plugin.
wit_bindgen::generate!({
    inline: "package example:greeter@1.0.0;
             interface greet { hello: func(who: string) -> string; }
             world greeter { export greet; }",
    world: "greeter",
});

struct Stranger;

impl exports::example::greeter::greet::Guest for Stranger {
    fn hello(who: String) -> String {
        format!("hello {who}")
    }
}

export!(Stranger);
