//! Data for an empty database: a small demo, or the benchmark workload.

use anyhow::Context as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::{comment, course, post, post_tag, profile, student, student_course, tag, user};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    Set, TransactionTrait,
};

/// The demo account's email address.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The demo account's password.
pub const DEMO_PASSWORD: &str = "relgql-demo";

/// Rows per INSERT statement when seeding in bulk.
const CHUNK: usize = 1_000;

/// Writes a small demo of both domains, for people exploring in GraphiQL.
pub async fn demo(db: &DatabaseConnection) -> anyhow::Result<()> {
    ensure_empty(db).await?;
    let demo_hash = crate::auth::hash_password(DEMO_PASSWORD.to_owned()).await?;
    let txn = db.begin().await?;
    let start = Utc
        .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .context("start time")?;
    let people = [
        (
            "Ada Lovelace",
            "ada@example.com",
            Some("First programmer; writes about engines."),
        ),
        (
            "Alan Turing",
            "alan@example.com",
            Some("Computes the computable."),
        ),
        (
            "Grace Hopper",
            "grace@example.com",
            Some("Compilers, COBOL and nanoseconds."),
        ),
        ("Edsger Dijkstra", "edsger@example.com", None),
        (
            "Barbara Liskov",
            "barbara@example.com",
            Some("Abstraction and substitution."),
        ),
    ];
    let mut users = Vec::new();
    for (i, (name, email, bio)) in people.iter().enumerate() {
        let created_at = start + Duration::days(i as i64);
        let row = user::ActiveModel {
            name: Set((*name).to_owned()),
            email: Set((*email).to_owned()),
            created_at: Set(created_at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(bio) = bio {
            profile::ActiveModel {
                user_id: Set(row.id),
                bio: Set((*bio).to_owned()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        users.push(row);
    }
    user::ActiveModel {
        name: Set("Demo Visitor".to_owned()),
        email: Set(DEMO_EMAIL.to_owned()),
        created_at: Set(start + Duration::days(6)),
        password_hash: Set(Some(demo_hash)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let titles = [
        (0, "Notes on the Analytical Engine", true),
        (0, "Loops before loops", true),
        (1, "On computable numbers", true),
        (1, "Can machines think?", false),
        (2, "Why we need compilers", true),
        (2, "A nanosecond, in wire", true),
        (3, "Go To considered harmful", true),
        (4, "Data abstraction in practice", true),
    ];
    let mut posts = Vec::new();
    for (i, (author, title, published)) in titles.iter().enumerate() {
        let row = post::ActiveModel {
            user_id: Set(users[*author].id),
            title: Set((*title).to_owned()),
            body: Set(format!("{title}: a short essay for the demo.")),
            published: Set(*published),
            created_at: Set(start + Duration::days(10 + i as i64)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        posts.push(row);
    }
    for (i, post) in posts.iter().enumerate() {
        let mut first = None;
        for j in 0..(i % 3 + 1) {
            let author = &users[(i + j + 1) % users.len()];
            let row = comment::ActiveModel {
                post_id: Set(post.id),
                user_id: Set(author.id),
                body: Set(format!("{} on “{}”: well said.", author.name, post.title)),
                created_at: Set(post.created_at + Duration::hours(j as i64 + 1)),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            first.get_or_insert((row, author.name.clone()));
        }
        // The post's author answers its first comment.
        if let Some((first, name)) = first.filter(|_| i % 2 == 0) {
            comment::ActiveModel {
                post_id: Set(post.id),
                user_id: Set(post.user_id),
                body: Set(format!("Thank you, {name}.")),
                created_at: Set(first.created_at + Duration::minutes(30)),
                parent_id: Set(Some(first.id)),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    let mut tags = Vec::new();
    for name in ["history", "computing", "languages", "essays"] {
        let row = tag::ActiveModel {
            name: Set(name.to_owned()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        tags.push(row);
    }
    for (i, post) in posts.iter().enumerate() {
        // Each post carries the tags but every third, in turn.
        let carried = tags.iter().enumerate().filter(|(j, _)| (i + j) % 3 != 1);
        for tag in carried.map(|(_, tag)| tag) {
            post_tag::ActiveModel {
                post_id: Set(post.id),
                tag_id: Set(tag.id),
            }
            .insert(&txn)
            .await?;
        }
    }
    let mut courses = Vec::new();
    for name in [
        "Databases",
        "Compilers",
        "Distributed Systems",
        "Type Theory",
    ] {
        let row = course::ActiveModel {
            name: Set(name.to_owned()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        courses.push(row);
    }
    for (i, name) in ["Ann", "Bo", "Chen", "Dara", "Eli", "Femi"]
        .iter()
        .enumerate()
    {
        let row = student::ActiveModel {
            name: Set(format!("{name} Student")),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for (j, course) in courses.iter().enumerate().filter(|(j, _)| (i + j) % 2 == 0) {
            student_course::ActiveModel {
                student_id: Set(row.id),
                course_id: Set(course.id),
                enrolled_at: Set(start + Duration::days(30 + (i + j) as i64)),
            }
            .insert(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    tracing::info!(
        "wrote the demo data: 6 users (one of them the demo account), 8 posts, 4 tags, 6 students, 4 courses"
    );
    Ok(())
}

/// Writes the benchmark workload of `shared/bench/WORKLOAD.md`, row for row.
pub async fn bench(db: &DatabaseConnection) -> anyhow::Result<()> {
    ensure_empty(db).await?;
    let txn = db.begin().await?;
    let workload = Workload::new()?;
    insert_all(&txn, workload.users()).await.context("users")?;
    insert_all(&txn, workload.profiles())
        .await
        .context("profiles")?;
    insert_all(&txn, workload.posts()).await.context("posts")?;
    insert_all(&txn, workload.comments())
        .await
        .context("comments")?;
    insert_all(&txn, workload.tags()).await.context("tags")?;
    insert_all(&txn, workload.post_tags())
        .await
        .context("post tags")?;
    insert_all(&txn, workload.students())
        .await
        .context("students")?;
    insert_all(&txn, workload.courses())
        .await
        .context("courses")?;
    insert_all(&txn, workload.enrollments())
        .await
        .context("enrollments")?;
    if txn.get_database_backend() == DbBackend::Postgres {
        for table in [
            "users", "profiles", "posts", "comments", "tags", "students", "courses",
        ] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .await?;
        }
    }
    txn.commit().await?;
    tracing::info!("wrote the benchmark workload");
    Ok(())
}

async fn ensure_empty(db: &DatabaseConnection) -> anyhow::Result<()> {
    let users = user::Entity::find().count(db).await?;
    let students = student::Entity::find().count(db).await?;
    anyhow::ensure!(
        users == 0 && students == 0,
        "the database already holds data ({users} users, {students} students): seed writes only into an empty database"
    );
    Ok(())
}

async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> anyhow::Result<()>
where
    A: ActiveModelTrait + Clone + Send,
{
    for chunk in rows.chunks(CHUNK) {
        <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The deterministic benchmark data set.
struct Workload {
    users_from: DateTime<Utc>,
    posts_from: DateTime<Utc>,
    comments_from: DateTime<Utc>,
    enrolled_from: DateTime<Utc>,
}

impl Workload {
    const USERS: i32 = 1_000;
    const STUDENTS: i32 = 2_000;
    const COURSES: i32 = 100;
    const TAGS: i32 = 50;

    fn new() -> anyhow::Result<Self> {
        let at = |month, day| {
            Utc.with_ymd_and_hms(2026, month, day, 0, 0, 0)
                .single()
                .context("a fixed date of the workload")
        };
        Ok(Self {
            users_from: at(1, 1)?,
            posts_from: at(2, 1)?,
            comments_from: at(3, 1)?,
            enrolled_from: at(9, 1)?,
        })
    }

    fn users(&self) -> Vec<user::ActiveModel> {
        (1..=Self::USERS)
            .map(|u| user::ActiveModel {
                id: Set(u),
                name: Set(format!("User {u}")),
                email: Set(format!("user{u}@example.com")),
                created_at: Set(self.users_from + Duration::minutes(u.into())),
                ..Default::default()
            })
            .collect()
    }

    fn profiles(&self) -> Vec<profile::ActiveModel> {
        (1..=Self::USERS)
            .filter(|u| u % 10 != 0)
            .map(|u| profile::ActiveModel {
                id: Set(u),
                user_id: Set(u),
                bio: Set(format!("Bio of user {u}")),
            })
            .collect()
    }

    /// `(post id, author, j)` in id order: user u writes 2·(u mod 10)+1 posts.
    fn post_keys() -> impl Iterator<Item = (i32, i32, i32)> {
        (1..=Self::USERS)
            .flat_map(|u| (1..=2 * (u % 10) + 1).map(move |j| (u, j)))
            .zip(1..)
            .map(|((u, j), id)| (id, u, j))
    }

    fn posts(&self) -> Vec<post::ActiveModel> {
        let body = "lorem ipsum ".repeat(20);
        Self::post_keys()
            .map(|(id, u, j)| post::ActiveModel {
                id: Set(id),
                user_id: Set(u),
                title: Set(format!("Post {u}.{j}")),
                body: Set(body.clone()),
                published: Set(j % 3 != 0),
                created_at: Set(self.posts_from + Duration::minutes((20 * u + j).into())),
            })
            .collect()
    }

    /// Comment j of post p with j > 3 replies to comment j - 3 of the same post,
    /// whose id, in (p, j) order, is 3 less.
    fn comments(&self) -> Vec<comment::ActiveModel> {
        let posts = Self::post_keys().count() as i32;
        (1..=posts)
            .flat_map(|p| (1..=(p % 20) + 1).map(move |j| (p, j)))
            .zip(1..)
            .map(|((p, j), id)| comment::ActiveModel {
                id: Set(id),
                post_id: Set(p),
                user_id: Set(1 + (31 * p + 17 * j) % 1000),
                body: Set(format!("Comment {p}.{j}")),
                created_at: Set(self.comments_from + Duration::seconds((20 * p + j).into())),
                parent_id: Set((j > 3).then_some(id - 3)),
            })
            .collect()
    }

    fn tags(&self) -> Vec<tag::ActiveModel> {
        (1..=Self::TAGS)
            .map(|t| tag::ActiveModel {
                id: Set(t),
                name: Set(format!("tag {t}")),
            })
            .collect()
    }

    /// Post p carries tags 1 + ((7p + k) mod 50) for k = 0 .. (p mod 4) - 1.
    fn post_tags(&self) -> Vec<post_tag::ActiveModel> {
        let posts = Self::post_keys().count() as i32;
        (1..=posts)
            .flat_map(|p| (0..p % 4).map(move |k| (p, k)))
            .map(|(p, k)| post_tag::ActiveModel {
                post_id: Set(p),
                tag_id: Set(1 + (7 * p + k) % Self::TAGS),
            })
            .collect()
    }

    fn students(&self) -> Vec<student::ActiveModel> {
        (1..=Self::STUDENTS)
            .map(|s| student::ActiveModel {
                id: Set(s),
                name: Set(format!("Student {s}")),
            })
            .collect()
    }

    fn courses(&self) -> Vec<course::ActiveModel> {
        (1..=Self::COURSES)
            .map(|c| course::ActiveModel {
                id: Set(c),
                name: Set(format!("Course {c}")),
            })
            .collect()
    }

    fn enrollments(&self) -> Vec<student_course::ActiveModel> {
        (1..=Self::STUDENTS)
            .flat_map(|s| (1..=1 + s % 9).map(move |j| (s, j)))
            .map(|(s, j)| student_course::ActiveModel {
                student_id: Set(s),
                course_id: Set(1 + (7 * s + 13 * j) % 100),
                enrolled_at: Set(self.enrolled_from + Duration::minutes(s.into())),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Workload;

    #[test]
    fn the_workload_has_the_documented_row_counts() {
        let w = Workload::new().unwrap();
        assert_eq!(w.users().len(), 1_000);
        assert_eq!(w.profiles().len(), 900);
        assert_eq!(w.posts().len(), 10_000);
        assert_eq!(w.comments().len(), 105_000);
        assert_eq!(w.tags().len(), 50);
        assert_eq!(w.post_tags().len(), 15_000);
        assert_eq!(w.students().len(), 2_000);
        assert_eq!(w.courses().len(), 100);
        assert_eq!(w.enrollments().len(), 9_995);
    }
}
