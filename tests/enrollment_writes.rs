//! Writing the course catalogue: admins only; enroll is idempotent, even racing.
//!
//! Fixture: students 1 Sam, 2 Tia, 3 Uma; courses 1 Algebra, 2 Biology, 3 Chemistry;
//! Sam takes Algebra and Biology, Tia takes Algebra. User 1 is made an admin here.

mod common;

use common::{Backend, TestApp, gid};
use futures_util::future::join_all;
use serde_json::{Value, json};

const CREATE_STUDENT: &str =
    "mutation($input: CreateStudentInput!) { createStudent(input: $input) { id name } }";
const UPDATE_STUDENT: &str =
    "mutation($input: UpdateStudentInput!) { updateStudent(input: $input) { id name } }";
const DELETE_STUDENT: &str =
    "mutation($input: DeleteStudentInput!) { deleteStudent(input: $input) }";
const CREATE_COURSE: &str =
    "mutation($input: CreateCourseInput!) { createCourse(input: $input) { id name } }";
const UPDATE_COURSE: &str =
    "mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { id name } }";
const DELETE_COURSE: &str = "mutation($input: DeleteCourseInput!) { deleteCourse(input: $input) }";
const ENROLL: &str = "mutation($input: EnrollInput!) { enroll(input: $input) { id enrolledAt student { name } course { name } } }";
const UNENROLL: &str = "mutation($input: UnenrollInput!) { unenroll(input: $input) { id enrolledAt student { name } course { name } } }";

fn input(value: Value) -> Value {
    json!({ "input": value })
}

fn pair(student: i32, course: i32) -> Value {
    input(json!({"studentId": gid("Student", student), "courseId": gid("Course", course)}))
}

async fn enrollments(app: &TestApp) -> i64 {
    let data = app
        .data("{ students { nodes { courses { totalCount } } } }")
        .await;
    data["students"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["courses"]["totalCount"].as_i64().unwrap())
        .sum()
}

async fn catalogue_writes_need_a_token_and_an_admin(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let user = app.token_for(2);
    for (mutation, variables) in [
        (CREATE_STUDENT, input(json!({"name": "Vic"}))),
        (
            UPDATE_STUDENT,
            input(json!({"id": gid("Student", 1), "name": "Vic"})),
        ),
        (DELETE_STUDENT, input(json!({"id": gid("Student", 1)}))),
        (CREATE_COURSE, input(json!({"name": "Drama"}))),
        (
            UPDATE_COURSE,
            input(json!({"id": gid("Course", 1), "name": "Drama"})),
        ),
        (DELETE_COURSE, input(json!({"id": gid("Course", 1)}))),
        (ENROLL, pair(3, 3)),
        (UNENROLL, pair(1, 1)),
    ] {
        let (code, _) = app.write_error(None, mutation, variables.clone()).await;
        assert_eq!(code, "UNAUTHENTICATED", "{mutation}");
        let (code, _) = app.write_error(Some(&user), mutation, variables).await;
        assert_eq!(code, "FORBIDDEN", "{mutation}");
    }
    assert_eq!(enrollments(&app).await, 3);
    assert_eq!(
        app.data("{ students { totalCount } courses { totalCount } }")
            .await,
        json!({"students": {"totalCount": 3}, "courses": {"totalCount": 3}})
    );
}

async fn admins_manage_students_and_courses(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    app.make_admin(1).await;
    let admin = app.token_for(1);
    let created = app
        .write(
            Some(&admin),
            CREATE_STUDENT,
            input(json!({"name": " Vic "})),
        )
        .await;
    assert_eq!(created["createStudent"]["name"], "Vic");
    let id = created["createStudent"]["id"].as_str().unwrap().to_owned();
    let renamed = app
        .write(
            Some(&admin),
            UPDATE_STUDENT,
            input(json!({"id": id, "name": "Victor"})),
        )
        .await;
    assert_eq!(
        renamed["updateStudent"],
        json!({"id": id, "name": "Victor"})
    );
    let course = app
        .write(Some(&admin), CREATE_COURSE, input(json!({"name": "Drama"})))
        .await;
    assert_eq!(course["createCourse"]["name"], "Drama");
    let deleted = app
        .write(
            Some(&admin),
            DELETE_COURSE,
            input(json!({"id": gid("Course", 1)})),
        )
        .await;
    assert_eq!(deleted["deleteCourse"], gid("Course", 1));
    assert_eq!(
        enrollments(&app).await,
        1,
        "Algebra's enrollments went with it"
    );
    let deleted = app
        .write(
            Some(&admin),
            DELETE_STUDENT,
            input(json!({"id": gid("Student", 1)})),
        )
        .await;
    assert_eq!(deleted["deleteStudent"], gid("Student", 1));
    assert_eq!(enrollments(&app).await, 0);
    let (code, _) = app
        .write_error(
            Some(&admin),
            DELETE_STUDENT,
            input(json!({"id": gid("Student", 1)})),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = app
        .write_error(Some(&admin), CREATE_STUDENT, input(json!({"name": ""})))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

async fn a_taken_course_name_is_a_conflict(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    app.make_admin(1).await;
    let admin = app.token_for(1);
    let (code, _) = app
        .write_error(
            Some(&admin),
            CREATE_COURSE,
            input(json!({"name": "Algebra"})),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = app
        .write_error(
            Some(&admin),
            UPDATE_COURSE,
            input(json!({"id": gid("Course", 2), "name": "Algebra"})),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    let names = app.data("{ courses { nodes { name } } }").await;
    assert_eq!(
        names["courses"]["nodes"],
        json!([{"name": "Algebra"}, {"name": "Biology"}, {"name": "Chemistry"}])
    );
}

async fn enroll_is_idempotent_and_unenroll_of_nothing_is_not_found(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    app.make_admin(1).await;
    let admin = app.token_for(1);
    let first = app.write(Some(&admin), ENROLL, pair(3, 3)).await;
    assert_eq!(first["enroll"]["student"]["name"], "Uma");
    assert_eq!(first["enroll"]["course"]["name"], "Chemistry");
    let again = app.write(Some(&admin), ENROLL, pair(3, 3)).await;
    assert_eq!(again, first, "the same enrollment, unchanged");
    assert_eq!(enrollments(&app).await, 4);
    let existing = app.write(Some(&admin), ENROLL, pair(1, 1)).await;
    assert_eq!(existing["enroll"]["enrolledAt"], "2026-01-02T06:00:00Z");
    let removed = app.write(Some(&admin), UNENROLL, pair(1, 1)).await;
    assert_eq!(removed["unenroll"]["course"]["name"], "Algebra");
    assert_eq!(enrollments(&app).await, 3);
    let (code, _) = app.write_error(Some(&admin), UNENROLL, pair(1, 1)).await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = app.write_error(Some(&admin), ENROLL, pair(9, 1)).await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = app
        .write_error(
            Some(&admin),
            ENROLL,
            input(json!({"studentId": gid("Course", 1), "courseId": gid("Course", 1)})),
        )
        .await;
    assert_eq!(
        code, "BAD_USER_INPUT",
        "a course id where a student id belongs"
    );
}

async fn concurrent_identical_enrollments_make_exactly_one_row(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    app.make_admin(1).await;
    let admin = app.token_for(1);
    let attempts = (0..8).map(|_| app.request(Some(&admin), ENROLL, pair(2, 3)));
    let results = join_all(attempts).await;
    for (status, body) in &results {
        assert_eq!(status.as_u16(), 200);
        assert!(
            body.get("errors").is_none(),
            "every racer gets the enrollment: {body}"
        );
    }
    let times: Vec<&Value> = results
        .iter()
        .map(|(_, b)| &b["data"]["enroll"]["enrolledAt"])
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] == w[1]),
        "one row, one time: {times:?}"
    );
    let tia = app
        .data(r#"{ student(id: "U3R1ZGVudDoy") { courses { totalCount } } }"#)
        .await;
    assert_eq!(tia["student"]["courses"]["totalCount"], 2);
}

/// An enrollment has a global id, so client caches can normalise it: the same for
/// the same student and course, and `node(id:)` / `nodes(ids:)` find it (all the
/// enrollments asked for in one statement) until it is removed.
async fn an_enrollment_has_a_global_id_that_node_finds(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    app.make_admin(1).await;
    let admin = app.token_for(1);
    let enrolled = app.write(Some(&admin), ENROLL, pair(3, 3)).await;
    let id = enrolled["enroll"]["id"].as_str().unwrap().to_owned();
    let existing = app.write(Some(&admin), ENROLL, pair(1, 2)).await;
    let other = existing["enroll"]["id"].as_str().unwrap().to_owned();
    assert_ne!(id, other);
    assert_eq!(
        app.write(Some(&admin), ENROLL, pair(3, 3)).await["enroll"]["id"],
        id.as_str()
    );

    let query = "query($id: ID!) { node(id: $id) { __typename id ... on Enrollment {
        enrolledAt student { name } course { name } } } }";
    let (_, body) = app.request(None, query, json!({"id": id})).await;
    assert_eq!(
        body["data"]["node"],
        json!({"__typename": "Enrollment", "id": id, "enrolledAt": enrolled["enroll"]["enrolledAt"],
            "student": {"name": "Uma"}, "course": {"name": "Chemistry"}}),
        "{body}"
    );
    assert_eq!(
        body["extensions"]["sqlStatements"], 3,
        "the enrollment, its student and its course: {body}"
    );

    let many =
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Enrollment { course { name } } } }";
    let ids = json!([id, gid("Student", 1), other, id]);
    let (_, body) = app.request(None, many, json!({"ids": ids})).await;
    let names: Vec<Value> = body["data"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|node| node["course"]["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("Chemistry"),
            Value::Null,
            json!("Biology"),
            json!("Chemistry")
        ],
        "{body}"
    );
    assert_eq!(body["data"]["nodes"][1]["id"], gid("Student", 1));
    // The enrollments (one statement), the student, the courses (one batch).
    assert_eq!(body["extensions"]["sqlStatements"], 3, "{body}");

    app.write(Some(&admin), UNENROLL, pair(3, 3)).await;
    let (_, body) = app.request(None, query, json!({"id": id})).await;
    assert_eq!(body["data"]["node"], Value::Null, "{body}");
    // A pair id with a key that cannot be is a malformed id, not a missing one.
    let bad = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "Enrollment:3:0");
    let (_, body) = app.request(None, query, json!({"id": bad})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
}

on_every_backend!(
    an_enrollment_has_a_global_id_that_node_finds,
    catalogue_writes_need_a_token_and_an_admin,
    admins_manage_students_and_courses,
    a_taken_course_name_is_a_conflict,
    enroll_is_idempotent_and_unenroll_of_nothing_is_not_found,
    concurrent_identical_enrollments_make_exactly_one_row,
);
