//! Known test data.
//!
//! Users: 1 Alice (profile), 2 Bob (profile), 3 Carol (no profile, no posts), 4 alice
//! (a second "alice" by name, to test ties and case).
//! Posts: 1 "Hello world" (Alice, published), 2 "Draft notes" (Alice, draft),
//! 3 "100% sure_thing" (Alice, published), 4 "Bob's post" (Bob, published).
//! Comments: 1 Bob on post 1, 2 Carol on post 1, 3 Alice on post 1, 4 Alice on post 4.
//! Students: 1 Sam, 2 Tia, 3 Uma (no courses). Courses: 1 Algebra, 2 Biology,
//! 3 Chemistry (no students). Enrollments: Sam in Algebra and Biology, Tia in Algebra.
//! Tags: 1 "news", on post 1.
//! [`discussed_draft`] adds comments and a tag on the draft.

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::{comment, course, post, post_tag, profile, student, student_course, tag, user};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

/// 2026-01-01 00:00 UTC plus `hours`.
pub fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(hours)
}

/// Writes the known data described in the module documentation.
pub async fn known(db: &DatabaseConnection) {
    for (id, name, email) in [
        (1, "Alice", "alice@example.com"),
        (2, "Bob", "bob@example.com"),
        (3, "Carol", "carol@example.com"),
        (4, "alice", "alice2@example.com"),
    ] {
        user::ActiveModel {
            id: Set(id),
            name: Set(name.into()),
            email: Set(email.into()),
            created_at: Set(at(id.into())),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    for (id, user_id, bio) in [(1, 1, "Alice writes"), (2, 2, "Bob reads")] {
        profile::ActiveModel {
            id: Set(id),
            user_id: Set(user_id),
            bio: Set(bio.into()),
        }
        .insert(db)
        .await
        .unwrap();
    }
    for (id, user_id, title, published) in [
        (1, 1, "Hello world", true),
        (2, 1, "Draft notes", false),
        (3, 1, "100% sure_thing", true),
        (4, 2, "Bob's post", true),
    ] {
        post::ActiveModel {
            id: Set(id),
            user_id: Set(user_id),
            title: Set(title.into()),
            body: Set(format!("Body of {title}")),
            published: Set(published),
            created_at: Set(at(10 + i64::from(id))),
        }
        .insert(db)
        .await
        .unwrap();
    }
    for (id, post_id, user_id, body) in [
        (1, 1, 2, "Nice post"),
        (2, 1, 3, "I agree"),
        (3, 1, 1, "Thanks!"),
        (4, 4, 1, "Welcome, Bob"),
    ] {
        comment::ActiveModel {
            id: Set(id),
            post_id: Set(post_id),
            user_id: Set(user_id),
            body: Set(body.into()),
            created_at: Set(at(20 + i64::from(id))),
            parent_id: Set(None),
        }
        .insert(db)
        .await
        .unwrap();
    }
    for (id, name) in [(1, "Sam"), (2, "Tia"), (3, "Uma")] {
        student::ActiveModel {
            id: Set(id),
            name: Set(name.into()),
        }
        .insert(db)
        .await
        .unwrap();
    }
    for (id, name) in [(1, "Algebra"), (2, "Biology"), (3, "Chemistry")] {
        course::ActiveModel {
            id: Set(id),
            name: Set(name.into()),
        }
        .insert(db)
        .await
        .unwrap();
    }
    for (student_id, course_id, hours) in [(1, 1, 30), (1, 2, 31), (2, 1, 32)] {
        student_course::ActiveModel {
            student_id: Set(student_id),
            course_id: Set(course_id),
            enrolled_at: Set(at(hours)),
        }
        .insert(db)
        .await
        .unwrap();
    }
    tag::ActiveModel {
        id: Set(1),
        name: Set("news".into()),
    }
    .insert(db)
    .await
    .unwrap();
    post_tag::ActiveModel {
        post_id: Set(1),
        tag_id: Set(1),
    }
    .insert(db)
    .await
    .unwrap();
    reset_sequences(db).await;
}

/// Writes `users` users with 3 posts each (3 comments per post, by other users, the
/// third a reply to the first), and
/// `users` students each taking 3 of `users` courses.
pub async fn scaled(db: &DatabaseConnection, users: i32) {
    let users_rows = (1..=users).map(|u| user::ActiveModel {
        id: Set(u),
        name: Set(format!("User {u}")),
        email: Set(format!("user{u}@example.com")),
        created_at: Set(at(u.into())),
        ..Default::default()
    });
    user::Entity::insert_many(users_rows)
        .exec_without_returning(db)
        .await
        .unwrap();
    let profiles = (1..=users)
        .filter(|u| u % 2 == 0)
        .map(|u| profile::ActiveModel {
            id: Set(u),
            user_id: Set(u),
            bio: Set(format!("Bio {u}")),
        });
    profile::Entity::insert_many(profiles)
        .exec_without_returning(db)
        .await
        .unwrap();
    let posts = (1..=users * 3).map(|p| post::ActiveModel {
        id: Set(p),
        user_id: Set((p - 1) / 3 + 1),
        title: Set(format!("Post {p}")),
        body: Set("body".into()),
        published: Set(true),
        created_at: Set(at(p.into())),
    });
    post::Entity::insert_many(posts)
        .exec_without_returning(db)
        .await
        .unwrap();
    let comments = (1..=users * 9).map(|c| comment::ActiveModel {
        id: Set(c),
        post_id: Set((c - 1) / 3 + 1),
        user_id: Set(c % users + 1),
        body: Set(format!("Comment {c}")),
        created_at: Set(at(c.into())),
        // The third comment on each post replies to the first.
        parent_id: Set((c % 3 == 0).then_some(c - 2)),
    });
    comment::Entity::insert_many(comments)
        .exec_without_returning(db)
        .await
        .unwrap();
    let tags = (1..=users).map(|t| tag::ActiveModel {
        id: Set(t),
        name: Set(format!("Tag {t}")),
    });
    tag::Entity::insert_many(tags)
        .exec_without_returning(db)
        .await
        .unwrap();
    // Post p carries two tags (one when there is one), every tag is on six posts.
    let post_tags = (1..=users * 3).flat_map(|p| {
        let tags = [p % users + 1, (p + 1) % users + 1];
        tags.into_iter()
            .take(if users > 1 { 2 } else { 1 })
            .map(move |tag_id| post_tag::ActiveModel {
                post_id: Set(p),
                tag_id: Set(tag_id),
            })
    });
    post_tag::Entity::insert_many(post_tags)
        .exec_without_returning(db)
        .await
        .unwrap();
    let students = (1..=users).map(|s| student::ActiveModel {
        id: Set(s),
        name: Set(format!("Student {s}")),
    });
    student::Entity::insert_many(students)
        .exec_without_returning(db)
        .await
        .unwrap();
    let courses = (1..=users).map(|c| course::ActiveModel {
        id: Set(c),
        name: Set(format!("Course {c}")),
    });
    course::Entity::insert_many(courses)
        .exec_without_returning(db)
        .await
        .unwrap();
    let enrollments = (1..=users).flat_map(|s| {
        (0..3).map(move |k| student_course::ActiveModel {
            student_id: Set(s),
            course_id: Set((s + k * 7) % users + 1),
            enrolled_at: Set(at(s.into())),
        })
    });
    student_course::Entity::insert_many(enrollments)
        .exec_without_returning(db)
        .await
        .unwrap();
    reset_sequences(db).await;
}

/// Adds to the [`known`] data a discussion of Alice's draft (post 2): comment 5 by
/// Bob and comment 6 by Alice replying to it (the post was published once, then
/// withdrawn), and tag 2 "secret" on the draft alone; tag 1 "news" goes on it too.
pub async fn discussed_draft(db: &DatabaseConnection) {
    for (id, user_id, parent_id) in [(5, 2, None), (6, 1, Some(5))] {
        comment::ActiveModel {
            id: Set(id),
            post_id: Set(2),
            user_id: Set(user_id),
            body: Set(format!("Draft comment {id}")),
            created_at: Set(at(20 + i64::from(id))),
            parent_id: Set(parent_id),
        }
        .insert(db)
        .await
        .unwrap();
    }
    tag::ActiveModel {
        id: Set(2),
        name: Set("secret".into()),
    }
    .insert(db)
    .await
    .unwrap();
    let on_draft = [1, 2].map(|tag_id| post_tag::ActiveModel {
        post_id: Set(2),
        tag_id: Set(tag_id),
    });
    post_tag::Entity::insert_many(on_draft)
        .exec_without_returning(db)
        .await
        .unwrap();
    reset_sequences(db).await;
}

/// After rows with explicit ids, PostgreSQL's sequences must catch up.
async fn reset_sequences(db: &DatabaseConnection) {
    use sea_orm::ConnectionTrait;
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    for table in [
        "users", "profiles", "posts", "comments", "tags", "students", "courses",
    ] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
        ))
        .await
        .unwrap();
    }
}
