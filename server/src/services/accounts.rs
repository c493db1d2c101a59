//! First-run setup, sign-in with lockout, sign-out, and user management.

use super::audit::{object, unsaved, Actor};
use super::sign_in_limits::Subject;
use super::{internal, Services};
use crate::domain::user::{parse_new_user, parse_sign_in, SignIn};
use crate::store::users::{self, AccessChange};
use app::backend::NewUserInput;
use app::domain::password::PasswordField;
use app::domain::{AuditAction, Email, NewPassword, ObjectKind, Role};
use app::error::{AppError, FormErrors};
use app::model::{AuditObject, CurrentUser, UserView};
use std::net::IpAddr;

/// Who signed in, and the session epoch their session must carry.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn {
    pub user_id: i64,
    pub session_epoch: i64,
}

/// An active user as a session sees them.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: CurrentUser,
    pub session_epoch: i64,
}

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
    pub async fn setup_first_admin(
        &self,
        actor: &Actor,
        input: NewUserInput,
    ) -> Result<SignedIn, AppError> {
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
        let hash = self
            .passwords()
            .hash(user.password.expose().to_owned())
            .await?;
        let audit = actor.entry(
            AuditAction::Create,
            unsaved(ObjectKind::User, user.email.as_str()),
        );
        let row = users::insert_first_admin(self.db(), user.email.as_str(), &hash, &audit)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::NotFound("Setup is already done: sign in instead".into()))?;
        tracing::info!(user_id = row.id, "first admin created");
        Ok(SignedIn {
            user_id: row.id,
            session_epoch: row.session_epoch,
        })
    }

    pub async fn create_user(
        &self,
        actor: &Actor,
        input: NewUserInput,
    ) -> Result<UserView, AppError> {
        let user = parse_new_user(&input).map_err(AppError::Invalid)?;
        let hash = self
            .passwords()
            .hash(user.password.expose().to_owned())
            .await?;
        let audit = actor.entry(
            AuditAction::Create,
            unsaved(ObjectKind::User, user.email.as_str()),
        );
        match users::insert(self.db(), user.email.as_str(), &hash, user.role, &audit).await {
            Ok(row) => {
                tracing::info!(user_id = row.id, role = %user.role, "user created");
                Ok(user_view(&row))
            }
            Err(err) if err.is_unique_violation() => Err(duplicate_email(&user.email)),
            Err(err) => Err(internal(err)),
        }
    }

    /// Checks a sign-in within the limits (per account and per client
    /// address); returns who signed in, for the session.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<SignedIn, AppError> {
        let SignIn { email, password } =
            parse_sign_in(email, password).map_err(AppError::Invalid)?;
        let address = match client {
            Some(ip) => Some(self.admit(Subject::Address(ip)).await?),
            None => None,
        };
        let account = match self.admit(Subject::Account(&email)).await {
            Ok(ticket) => ticket,
            Err(refused) => {
                if let Some(address) = address {
                    self.release(address).await?;
                }
                return Err(refused);
            }
        };
        let user = users::by_email(self.db(), &email).await.map_err(internal)?;
        let stored = user
            .as_ref()
            .filter(|u| u.active)
            .map(|u| u.password_hash.clone());
        let ok = self.passwords().verify(password.to_owned(), stored).await?;
        match user {
            Some(user) if ok => {
                self.cleared(account).await?;
                if let Some(address) = address {
                    self.release(address).await?;
                }
                Ok(SignedIn {
                    user_id: user.id,
                    session_epoch: user.session_epoch,
                })
            }
            // Both attempts stay counted.
            _ => {
                tracing::info!("failed sign-in");
                let nobody = Actor::anonymous(client);
                let tried = AuditObject {
                    kind: ObjectKind::User,
                    id: user.as_ref().map(|u| u.id),
                    name: email.clone(),
                };
                self.record_audit(&nobody, AuditAction::SignInFailed, tried.clone())
                    .await?;
                if account.takes_the_last_try() {
                    self.record_audit(&nobody, AuditAction::LockedOut, tried)
                        .await?;
                }
                if let (Some(ticket), Some(ip)) = (&address, client) {
                    if ticket.takes_the_last_try() {
                        let from = unsaved(ObjectKind::Address, &ip.to_string());
                        self.record_audit(&nobody, AuditAction::LockedOut, from)
                            .await?;
                    }
                }
                Err(AppError::BadCredentials)
            }
        }
    }

    /// Checks a signed-in user's password again (before a sensitive action),
    /// within the re-entry limit; a wrong one is recorded for `actor`.
    pub(crate) async fn reenter(
        &self,
        actor: &Actor,
        user: &users::UserRow,
        password: &str,
    ) -> Result<bool, AppError> {
        let ticket = self.admit(Subject::Reentry(user.id)).await?;
        let ok = self
            .passwords()
            .verify(password.to_owned(), Some(user.password_hash.clone()))
            .await?;
        if ok {
            self.cleared(ticket).await?;
        } else {
            let whose = object(ObjectKind::User, user.id, &user.email);
            self.record_audit(actor, AuditAction::PasswordReentryFailed, whose.clone())
                .await?;
            if ticket.takes_the_last_try() {
                self.record_audit(actor, AuditAction::LockedOut, whose)
                    .await?;
            }
        }
        Ok(ok)
    }

    /// The user with this id while they are active (a signed-in session's user).
    pub async fn active_user(&self, id: i64) -> Result<Option<SessionUser>, AppError> {
        Ok(users::by_id(self.db(), id)
            .await
            .map_err(internal)?
            .filter(|user| user.active)
            .map(|user| SessionUser {
                session_epoch: user.session_epoch,
                user: CurrentUser {
                    id: user.id,
                    email: user.email,
                    role: user.role,
                },
            }))
    }

    /// Changes the actor's password and ends their sessions; returns the new
    /// session epoch, under which the caller keeps its own session.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<i64, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthenticated)?;
        let mut errors = FormErrors::default();
        let password = NewPassword::parse(new, confirm)
            .map_err(|(field, m)| match field {
                PasswordField::Password => errors.add("new_password", m),
                PasswordField::Confirmation => errors.add("new_password_confirm", m),
            })
            .ok();
        let user = users::by_id(self.db(), user_id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Unauthenticated)?;
        if !self.reenter(actor, &user, current).await? {
            errors.add("current_password", "Your current password is not correct");
        }
        errors.into_result()?;
        let Some(password) = password else {
            return Err(AppError::Internal);
        };
        let hash = self.passwords().hash(password.expose().to_owned()).await?;
        let audit = actor.entry(
            AuditAction::ChangePassword,
            unsaved(ObjectKind::User, &user.email),
        );
        let epoch = users::set_password_hash(self.db(), user_id, &hash, &audit)
            .await
            .map_err(internal)?;
        tracing::info!(user_id, "password changed; other sessions ended");
        Ok(epoch)
    }

    /// Up to `limit` users after the cursor `after`, by id, and the next cursor.
    pub async fn users_after(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<UserView>, Option<i64>), AppError> {
        let rows = users::after(self.db(), after, limit)
            .await
            .map_err(internal)?;
        let next = super::next_cursor(&rows, limit, |r| r.id);
        Ok((rows.iter().map(user_view).collect(), next))
    }

    pub async fn list_users(&self) -> Result<Vec<UserView>, AppError> {
        let rows = users::list(self.db()).await.map_err(internal)?;
        Ok(rows.iter().map(user_view).collect())
    }

    /// Changes a user's role and ends their sessions; the last active admin keeps the role.
    pub async fn set_user_role(
        &self,
        actor: &Actor,
        user_id: i64,
        role: &str,
    ) -> Result<(), AppError> {
        let role = Role::parse(role).map_err(|m| AppError::invalid("role", m))?;
        let audit = actor.entry(AuditAction::ChangeRole, unsaved(ObjectKind::User, ""));
        self.change_access(user_id, Some(role), None, &audit)
            .await?;
        tracing::info!(actor = actor.id, user_id, %role, "role changed");
        Ok(())
    }

    /// (De)activates a user and ends their sessions; the last active admin stays active.
    pub async fn set_user_active(
        &self,
        actor: &Actor,
        user_id: i64,
        active: bool,
    ) -> Result<(), AppError> {
        let action = if active {
            AuditAction::Activate
        } else {
            AuditAction::Deactivate
        };
        let audit = actor.entry(action, unsaved(ObjectKind::User, ""));
        self.change_access(user_id, None, Some(active), &audit)
            .await?;
        tracing::info!(actor = actor.id, user_id, active, "user activation changed");
        Ok(())
    }

    async fn change_access(
        &self,
        user_id: i64,
        role: Option<Role>,
        active: Option<bool>,
        audit: &crate::store::audit::Entry,
    ) -> Result<(), AppError> {
        match users::change_access(self.db(), user_id, role, active, audit)
            .await
            .map_err(internal)?
        {
            AccessChange::Done => Ok(()),
            AccessChange::NoSuchUser => Err(AppError::NotFound("No such user".into())),
            AccessChange::LastAdmin => Err(AppError::Conflict(
                "Alertwire needs at least one active admin: make someone else an admin first"
                    .into(),
            )),
        }
    }
}
