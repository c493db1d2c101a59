//! First-run setup, sign-in with lockout, sign-out, and user management.

use super::{internal, passwords, Services};
use crate::clock::now_ms;
use crate::domain::user::{parse_new_user, parse_sign_in, SignIn};
use crate::store::{login_failures, users};
use app::backend::NewUserInput;
use app::domain::password::PasswordField;
use app::domain::{Email, NewPassword, Role};
use app::error::{AppError, FormErrors};
use app::model::{CurrentUser, UserView};

/// Failed sign-ins allowed for one account within the window before it locks.
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

fn user_view(row: &users::UserRow) -> UserView {
    UserView {
        id: row.id,
        email: row.email.clone(),
        role: row.role,
        active: row.active,
        created_at: row.created_at,
    }
}

fn duplicate_email(email: &Email) -> AppError {
    let mut errors = FormErrors::default();
    errors.keep("email", email.as_str());
    errors.add("email", "A user with this email already exists");
    AppError::Invalid(errors)
}

impl Services {
    /// Creates the first admin; refused once any user exists. Returns the new user's id.
    pub async fn setup_first_admin(&self, input: NewUserInput) -> Result<i64, AppError> {
        if self.users_exist().await? {
            return Err(AppError::NotFound(
                "Setup is already done: sign in instead".into(),
            ));
        }
        let user = parse_new_user(&NewUserInput {
            role: Role::Admin.as_str().into(),
            ..input
        })
        .map_err(AppError::Invalid)?;
        let hash = passwords::hash(user.password.expose().to_owned()).await?;
        let row = users::insert_first_admin(self.db(), user.email.as_str(), &hash)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::NotFound("Setup is already done: sign in instead".into()))?;
        tracing::info!(user_id = row.id, "first admin created");
        Ok(row.id)
    }

    pub async fn create_user(&self, input: NewUserInput) -> Result<UserView, AppError> {
        let user = parse_new_user(&input).map_err(AppError::Invalid)?;
        let hash = passwords::hash(user.password.expose().to_owned()).await?;
        match users::insert(self.db(), user.email.as_str(), &hash, user.role).await {
            Ok(row) => {
                tracing::info!(user_id = row.id, role = %user.role, "user created");
                Ok(user_view(&row))
            }
            Err(err) if err.is_unique_violation() => Err(duplicate_email(&user.email)),
            Err(err) => Err(internal(err)),
        }
    }

    /// Checks a sign-in, with the lockout; returns the user's id.
    pub async fn login(&self, email: &str, password: &str) -> Result<i64, AppError> {
        let SignIn { email, password } =
            parse_sign_in(email, password).map_err(AppError::Invalid)?;

        let now = now_ms();
        self.check_lockout(&email, now).await?;
        let user = users::by_email(self.db(), &email).await.map_err(internal)?;
        let stored = user
            .as_ref()
            .filter(|u| u.active)
            .map(|u| u.password_hash.clone());
        let ok = passwords::verify(password.to_owned(), stored).await?;
        match user {
            Some(user) if ok => {
                login_failures::clear(self.db(), &email)
                    .await
                    .map_err(internal)?;
                Ok(user.id)
            }
            _ => {
                login_failures::record(self.db(), &email, now, now - 24 * 3_600_000)
                    .await
                    .map_err(internal)?;
                tracing::info!("failed sign-in");
                Err(AppError::BadCredentials)
            }
        }
    }

    async fn check_lockout(&self, email: &str, now: i64) -> Result<(), AppError> {
        let recent = login_failures::since(self.db(), email, now - FAILURE_WINDOW_MS)
            .await
            .map_err(internal)?;
        if recent.len() < MAX_FAILURES {
            return Ok(());
        }
        // Unlocks when the oldest of the last five failures leaves the window.
        let unlock_at = recent[recent.len() - MAX_FAILURES] + FAILURE_WINDOW_MS;
        let minutes = ((unlock_at - now).max(1) + 59_999) / 60_000;
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        Err(AppError::LockedOut(format!(
            "Too many failed sign-in attempts for this account. Try again in {minutes} {unit}."
        )))
    }

    /// The user with this id while they are active (a signed-in session's user).
    pub async fn active_user(&self, id: i64) -> Result<Option<CurrentUser>, AppError> {
        Ok(users::by_id(self.db(), id)
            .await
            .map_err(internal)?
            .filter(|user| user.active)
            .map(|user| CurrentUser {
                id: user.id,
                email: user.email,
                role: user.role,
            }))
    }

    pub async fn change_password(
        &self,
        actor: &CurrentUser,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), AppError> {
        let mut errors = FormErrors::default();
        let password = NewPassword::parse(new, confirm)
            .map_err(|(field, m)| match field {
                PasswordField::Password => errors.add("new_password", m),
                PasswordField::Confirmation => errors.add("new_password_confirm", m),
            })
            .ok();
        let user = users::by_id(self.db(), actor.id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Unauthenticated)?;
        if !passwords::verify(current.to_owned(), Some(user.password_hash)).await? {
            errors.add("current_password", "Your current password is not correct");
        }
        errors.into_result()?;
        let Some(password) = password else {
            return Err(AppError::Internal);
        };
        let hash = passwords::hash(password.expose().to_owned()).await?;
        users::set_password_hash(self.db(), actor.id, &hash)
            .await
            .map_err(internal)?;
        tracing::info!(user_id = actor.id, "password changed");
        Ok(())
    }

    pub async fn list_users(&self) -> Result<Vec<UserView>, AppError> {
        let rows = users::list(self.db()).await.map_err(internal)?;
        Ok(rows.iter().map(user_view).collect())
    }

    pub async fn set_user_role(
        &self,
        actor: &CurrentUser,
        user_id: i64,
        role: &str,
    ) -> Result<(), AppError> {
        let role = Role::parse(role).map_err(|m| AppError::invalid("role", m))?;
        let target = self.user_or_404(user_id).await?;
        if target.role == Role::Admin && role != Role::Admin {
            self.keep_an_admin(user_id).await?;
        }
        users::set_role(self.db(), user_id, role)
            .await
            .map_err(internal)?;
        tracing::info!(actor = actor.id, user_id, %role, "role changed");
        Ok(())
    }

    pub async fn set_user_active(
        &self,
        actor: &CurrentUser,
        user_id: i64,
        active: bool,
    ) -> Result<(), AppError> {
        let target = self.user_or_404(user_id).await?;
        if !active && target.role == Role::Admin {
            self.keep_an_admin(user_id).await?;
        }
        users::set_active(self.db(), user_id, active)
            .await
            .map_err(internal)?;
        tracing::info!(actor = actor.id, user_id, active, "user activation changed");
        Ok(())
    }

    async fn user_or_404(&self, user_id: i64) -> Result<users::UserRow, AppError> {
        users::by_id(self.db(), user_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::NotFound("No such user".into()))
    }

    async fn keep_an_admin(&self, losing: i64) -> Result<(), AppError> {
        let others = users::count_other_active_admins(self.db(), losing)
            .await
            .map_err(internal)?;
        if others == 0 {
            return Err(AppError::Conflict(
                "Alertwire needs at least one active admin: make someone else an admin first"
                    .into(),
            ));
        }
        Ok(())
    }
}
