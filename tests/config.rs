//! The command line: bad configuration is refused before anything starts, with every problem
//! named; `--help` lists the commands; `migrate` prepares a fresh database and exits, or says
//! at once why it cannot; `serve` fails fast on a port in use.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};
use support::{PostgresDatabase, TempDir, postgres_url_of, switchyard_command};

/// The longest a command that does not serve may run.
const COMMAND_WITHIN: Duration = Duration::from_secs(30);

/// Runs a prepared command to its end, off the async runtime, with a deadline.
async fn run(mut command: std::process::Command) -> Output {
    let running = tokio::task::spawn_blocking(move || command.output());
    tokio::time::timeout(COMMAND_WITHIN, running)
        .await
        .expect("the command ends in time")
        .expect("the command's thread does not panic")
        .expect("the binary runs")
}

#[tokio::test]
async fn serve_with_a_bad_address_and_a_mysql_url_exits_naming_both_problems() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let mut command = switchyard_command(directory.path());
    command
        .arg("serve")
        .env("SWITCHYARD_LISTEN", "nonsense")
        .env("SWITCHYARD_DATABASE_URL", "mysql://x")
        .env("SWITCHYARD_DATA_DIR", directory.path().join("data"));

    // Act
    let output = run(command).await;

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "bad configuration is refused");
    assert!(
        stderr.contains("SWITCHYARD_LISTEN") && stderr.contains("nonsense"),
        "the listen address is named: {stderr}"
    );
    assert!(
        stderr.contains("SWITCHYARD_DATABASE_URL"),
        "the database URL is named: {stderr}"
    );
    assert!(
        !directory.path().join("data").exists(),
        "nothing is created before the configuration is valid"
    );
}

#[tokio::test]
async fn help_lists_the_serve_and_migrate_commands() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let mut command = switchyard_command(directory.path());
    command.arg("--help");

    // Act
    let output = run(command).await;

    // Assert
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("serve"), "{stdout}");
    assert!(stdout.contains("migrate"), "{stdout}");
}

#[tokio::test]
async fn migrate_prepares_a_fresh_sqlite_data_dir_and_exits_zero() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let data_dir = directory.path().join("data");
    let mut command = switchyard_command(directory.path());
    command.arg("migrate").env("SWITCHYARD_DATA_DIR", &data_dir);

    // Act
    let output = run(command).await;

    // Assert
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        data_dir.join("switchyard.db").exists(),
        "the database file is created"
    );
}

#[tokio::test]
async fn migrate_prepares_a_fresh_postgres_database_and_exits_zero() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let database = PostgresDatabase::create().await;
    let mut command = switchyard_command(directory.path());
    command
        .arg("migrate")
        .env("SWITCHYARD_DATABASE_URL", &database.url);

    // Act
    let first = run(command).await;
    let mut again = switchyard_command(directory.path());
    again
        .arg("migrate")
        .env("SWITCHYARD_DATABASE_URL", &database.url);
    let second = run(again).await;

    // Assert: it applies the migrations, and a second run has nothing left to do.
    for output in [first, second] {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (client, connection) = tokio_postgres::connect(&database.url, tokio_postgres::NoTls)
        .await
        .expect("the migrated database answers");
    tokio::spawn(connection);
    let tables = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .await
        .expect("the catalog can be read");
    assert!(tables.get::<_, i64>(0) > 0, "the migrations created tables");
}

#[tokio::test]
async fn every_bad_value_is_reported_even_when_one_has_the_wrong_type() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let mut command = switchyard_command(directory.path());
    command
        .arg("serve")
        .env("SWITCHYARD_LISTEN", "nonsense")
        .env("SWITCHYARD_MAX_BODY_BYTES", "-1")
        .env("SWITCHYARD_LOG_FORMAT", "xml");

    // Act
    let output = run(command).await;

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for (variable, value) in [
        ("SWITCHYARD_LISTEN", "`nonsense`"),
        ("SWITCHYARD_MAX_BODY_BYTES", "`-1`"),
        ("SWITCHYARD_LOG_FORMAT", "`xml`"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|line| line.contains(variable) && line.contains(value)),
            "{variable} is named with its value: {stderr}"
        );
    }
}

#[tokio::test]
async fn wrongly_typed_values_in_the_config_file_are_all_reported() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let file = directory.path().join("switchyard.toml");
    let settings = "max_body_bytes = \"lots\"\nconversation_idle_seconds = -5\nlisten = [1]\n";
    std::fs::write(&file, settings).expect("the config file is written");
    let mut command = switchyard_command(directory.path());
    command.arg("--config").arg(&file).arg("serve");

    // Act
    let output = run(command).await;

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for key in ["max_body_bytes", "conversation_idle_seconds", "listen"] {
        assert!(stderr.contains(key), "{key} is named: {stderr}");
    }
}

#[tokio::test]
async fn a_database_pool_of_zero_connections_is_refused_not_enlarged() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let mut command = switchyard_command(directory.path());
    command
        .arg("migrate")
        .env("SWITCHYARD_DATABASE_URL", postgres_url_of("unused"))
        .env("SWITCHYARD_DATABASE_POOL_SIZE", "0");

    // Act
    let output = run(command).await;

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("SWITCHYARD_DATABASE_POOL_SIZE") && stderr.contains("`0`"),
        "the pool size is named: {stderr}"
    );
}

#[tokio::test]
async fn migrate_against_a_missing_postgres_database_fails_fast_naming_it() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let name = format!("sy_missing_{}", uuid::Uuid::new_v4().simple());
    let mut command = switchyard_command(directory.path());
    command
        .arg("migrate")
        .env("SWITCHYARD_DATABASE_URL", postgres_url_of(&name));
    let started = Instant::now();

    // Act
    let output = run(command).await;

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a missing database is refused");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it fails within 10 s, not after the pool's wait: {:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains(&format!("database \"{name}\" does not exist")),
        "the server's reason is quoted: {stderr}"
    );
}

#[tokio::test]
async fn serve_on_a_port_in_use_fails_before_touching_the_database() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let data_dir = directory.path().join("data");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port can be taken");
    let address = taken.local_addr().expect("the taken port has an address");
    let mut command = switchyard_command(directory.path());
    command
        .arg("serve")
        .env("SWITCHYARD_LISTEN", address.to_string())
        .env("SWITCHYARD_DATA_DIR", &data_dir);

    // Act
    let output = run(command).await;

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a port in use stops the node");
    assert!(
        stderr.contains(&format!("cannot listen on {address}")),
        "the address is named: {stderr}"
    );
    assert!(
        !data_dir.exists(),
        "the database is not opened (its directory is not even created)"
    );
}

#[tokio::test]
async fn text_logs_written_to_a_pipe_carry_no_colour_codes() {
    // Arrange
    let directory = TempDir::new("switchyard-config");
    let mut command = switchyard_command(directory.path());
    command
        .arg("migrate")
        .env("SWITCHYARD_DATA_DIR", directory.path().join("data"))
        .env("RUST_LOG", "info");

    // Act
    let output = run(command).await;

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("migrations applied"),
        "a log line is written: {stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "no escape codes: {stderr:?}");
}
