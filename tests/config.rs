//! The command line: bad configuration is refused before anything starts, with every problem
//! named; `--help` lists the commands; `migrate` prepares a fresh database and exits.

mod support;

use std::process::Output;
use std::time::Duration;
use support::{PostgresDatabase, TempDir, switchyard_command};

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
