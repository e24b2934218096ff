//! Converts an input of the `packet` or `reassembly` fuzz target into the pcap file the target
//! analyzes, so that a crash found there can be kept as a capture among the fixtures; it must
//! not change the input in any other way.
//!
//! Usage: `cargo run --manifest-path fuzz/Cargo.toml --example to_pcap -- TARGET INPUT OUTPUT`

use arbitrary::{Arbitrary, Unstructured};
use tamper_fuzz::reassembly::{to_pcap, Input};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, input, output] = args.as_slice() else {
        eprintln!("usage: to_pcap packet|reassembly INPUT OUTPUT");
        std::process::exit(2);
    };
    let data = match std::fs::read(input) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("to_pcap: {input}: {e}");
            std::process::exit(1);
        }
    };
    let pcap = match target.as_str() {
        "packet" => tamper_fuzz::packet_input_to_pcap(&data),
        // libFuzzer hands the whole input to `Input::arbitrary_take_rest`, as here.
        "reassembly" => match Input::arbitrary_take_rest(Unstructured::new(&data)) {
            Ok(i) => to_pcap(&i),
            Err(e) => {
                eprintln!("to_pcap: {input} is not a reassembly input: {e}");
                std::process::exit(1);
            }
        },
        other => {
            eprintln!("to_pcap: {other}: only packet and reassembly inputs need converting");
            std::process::exit(2);
        }
    };
    if let Err(e) = std::fs::write(output, pcap) {
        eprintln!("to_pcap: {output}: {e}");
        std::process::exit(1);
    }
}
