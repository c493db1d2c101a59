//! What the benchmarks share: a fresh PostgreSQL database for a run.

/// Drops and creates database `name` on the server `ALERTWIRE_TEST_POSTGRES`
/// (default: the local one) and returns its URL.
pub async fn postgres_url(name: &str) -> Result<String, sqlx::Error> {
    use sqlx::Connection;
    let admin = std::env::var("ALERTWIRE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin);
    Ok(format!("{base}/{name}"))
}
