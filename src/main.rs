fn main() -> std::process::ExitCode {
    coroner::cli::main()
}
