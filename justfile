# Conveniences only: every recipe is a plain cargo command you can run yourself.

# Run every test (unit, integration, doc tests)
test:
    cargo test --workspace

# Format check and clippy with warnings denied, as CI does
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Build the docs with warnings denied, as CI does
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# Run the job runner's demo batch
demo:
    cargo run --release

# Run one of the library's examples: just example restart_backoff
example name:
    cargo run --release -p examples --example {{name}}

# The peer comparison (`just bench --quick`: under two minutes; `-- --svg docs/peers.svg` plots)
bench *args:
    cargo bench -p actix-taskgroup --bench peers -- {{args}}

# The targets' harness and the criterion benches
bench-ratios:
    cargo bench -p actix-taskgroup --bench ratios
    cargo bench -p actix-taskgroup --bench group_vs_raw

# Soak: ten thousand nested groups and a million children in waves, memory sampled per wave
soak:
    cargo run --release -p actix-taskgroup --example soak
