//! The `event_types` table: the names of the numbers history rows store as their types
//! (migration 0008).

use sqlx::SqliteConnection;

use crate::store::{Error, Result};

/// Give every event type its row in `event_types`: a type added after the database was
/// created is named here, without a migration. A number already naming another type, or a type
/// already under another number, fails the start instead of misreading the history.
pub(super) async fn name_event_types(conn: &mut SqliteConnection) -> Result<()> {
    let stored: Vec<(i64, String)> = sqlx::query_as("SELECT code, name FROM event_types")
        .fetch_all(&mut *conn)
        .await?;
    for t in crate::model::HistoryEventType::ALL {
        match stored
            .iter()
            .find(|(code, name)| *code == t.code() || name == t.as_str())
        {
            Some((code, name)) if *code == t.code() && name == t.as_str() => {}
            Some((code, name)) => {
                return Err(Error::Unavailable(format!(
                    "event_types names {code} {name}, where this build has {} {}",
                    t.code(),
                    t.as_str()
                )))
            }
            None => {
                sqlx::query("INSERT INTO event_types (code, name) VALUES (?, ?)")
                    .bind(t.code())
                    .bind(t.as_str())
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HistoryEventType;
    use crate::store::sqlite::open_temporary;

    async fn names(conn: &mut SqliteConnection) -> Vec<(i64, String)> {
        sqlx::query_as("SELECT code, name FROM event_types ORDER BY code")
            .fetch_all(conn)
            .await
            .expect("event_types")
    }

    /// The migration names each type by the number this build stores it as; a type the
    /// database does not name yet (a newer build's) is added at the start; a number naming
    /// another type stops the start instead of misreading the history.
    #[tokio::test]
    async fn event_types_are_named_by_the_numbers_stored() {
        let (_reader, mut conn, _dir) = open_temporary().await;
        let want: Vec<(i64, String)> = HistoryEventType::ALL
            .iter()
            .map(|t| (t.code(), t.as_str().to_owned()))
            .collect();
        assert_eq!(names(&mut conn).await, want);

        sqlx::query("DELETE FROM event_types WHERE code = 61")
            .execute(&mut conn)
            .await
            .expect("delete");
        name_event_types(&mut conn).await.expect("named");
        assert_eq!(names(&mut conn).await, want);

        sqlx::query("UPDATE event_types SET name = 'Renamed' WHERE code = 0")
            .execute(&mut conn)
            .await
            .expect("update");
        let err = name_event_types(&mut conn).await.expect_err("refused");
        assert!(
            err.to_string()
                .contains("event_types names 0 Renamed, where this build has 0 ActivityFailed"),
            "{err}"
        );
    }
}
